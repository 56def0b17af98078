package main

// The peer registry in STATE_TABLE: managed through the handler (the files
// of events/ and payloads an operator gets wrong), merged with PEERS, and a
// mesh of 500 registered peers pulled in one pass on loopback.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/operator"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
)

// registryAnswer is registry_list's answer.
type registryAnswer struct {
	EnvPeers []peers.Peer              `json:"env_peers"`
	Registry []operator.RegisteredView `json:"registry"`
	Enabled  bool                      `json:"registry_enabled"`
}

func TestRegistryEventFiles(t *testing.T) {
	f := newOpsFixture(t, nil)
	var put struct {
		Registered operator.RegisteredView `json:"registered"`
	}
	f.must(t, eventFile(t, "registry-put.json"), &put)
	gamma := operator.RegisteredView{ID: "gamma", URL: "https://gamma.example.net", SecretID: "catchup/gamma"}
	if diff := cmp.Diff(gamma, put.Registered); diff != "" {
		t.Errorf("registry_put answer (-want +got):\n%s", diff)
	}
	var list registryAnswer
	f.must(t, eventFile(t, "registry-list.json"), &list)
	if diff := cmp.Diff([]operator.RegisteredView{gamma}, list.Registry); diff != "" || !list.Enabled || len(list.EnvPeers) != 2 {
		t.Errorf("registry_list: enabled %v, PEERS %v, registry (-want +got):\n%s", list.Enabled, list.EnvPeers, diff)
	}
	var del struct {
		Deleted []string `json:"deleted"`
	}
	f.must(t, eventFile(t, "registry-delete.json"), &del)
	f.must(t, eventFile(t, "registry-list.json"), &list)
	if len(list.Registry) != 0 || len(del.Deleted) != 1 {
		t.Errorf("after registry_delete: %+v (deleted %v)", list.Registry, del.Deleted)
	}
}

// A registered peer is validated as a PEERS entry is; errors name the field
// and never echo a password; nothing is stored.
func TestRegistryPutValidation(t *testing.T) {
	f := newOpsFixture(t, nil)
	for _, tc := range []struct{ peer, want string }{
		{`{"action":"registry_put"}`, `registry_put needs "peer"`},
		{`{"id":"","url":"https://x.example.net"}`, `event: peer: id: empty`},
		{`{"id":"has space","url":"https://x.example.net"}`, `event: peer: id: "has space" holds`},
		{`{"id":"x","url":"http://x.example.net"}`, `event: peer: url: "http://x.example.net" must be https`},
		{`{"id":"x","url":""}`, `event: peer: url: empty`},
		{`{"id":"x","url":"https://x.example.net/?a=1"}`, `event: peer: url:`},
		{`{"id":"x","url":"https://x.example.net","secret_id":"two words"}`, `event: peer: secret_id:`},
		{`{"id":"x","url":"https://x.example.net","secretid":"s"}`, `unknown field "secretid"`},
		{`{"id":"alpha","url":"https://x.example.net"}`, `event: peer: id: "alpha" is in PEERS`},
	} {
		payload := tc.peer
		if !strings.Contains(payload, "action") {
			payload = `{"action":"registry_put","peer":` + tc.peer + `}`
		}
		if err := f.invoke(t, []byte(payload), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", payload, err, tc.want)
		}
	}
	err := f.invoke(t, []byte(`{"action":"registry_put","peer":{"id":"x","url":"https://admin:hunter2@x.example.net"}}`), nil)
	if err == nil || !strings.Contains(err.Error(), "url:") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a URL with credentials: %v; want a url error without the password", err)
	}
	if err := f.invoke(t, []byte(`{"action":"registry_delete"}`), nil); err == nil || !strings.Contains(err.Error(), `needs "peers"`) {
		t.Errorf("registry_delete without peers: %v", err)
	}
	var list registryAnswer
	f.must(t, eventFile(t, "registry-list.json"), &list)
	if len(list.Registry) != 0 {
		t.Errorf("refused puts stored %+v", list.Registry)
	}
}

// Add, disable, enable and remove a peer without a redeploy; its watermark
// is keyed by its id and outlives its registry entry.
func TestRegistryLifecycle(t *testing.T) {
	f := newOpsFixture(t, nil)
	rows := peertest.Backlog(6, 9, 1, false)
	first := rows[0]["updated_at"].(string)
	delta, deltaTS := peertest.NewHTTPTest(t, peertest.WithRows(rows))
	var put struct {
		Registered operator.RegisteredView `json:"registered"`
	}
	f.must(t, []byte(fmt.Sprintf(`{"action":"registry_put","disabled":true,"peer":{"id":"delta","url":%q}}`,
		deltaTS.URL+"/api/v1/sync/push/")), &put)
	if put.Registered.URL != deltaTS.URL || !put.Registered.Disabled {
		t.Errorf("stored %+v, want the normalized base URL, disabled", put.Registered)
	}
	if rep := f.run(t, eventFile(t, "scheduled.json")); len(rep.Peers) != 2 || len(delta.Requests()) != 0 {
		t.Errorf("a disabled peer was pulled: %v, %d requests", ids(rep), len(delta.Requests()))
	}
	if err := f.invoke(t, []byte(`{"peers":["delta"]}`), nil); err == nil {
		t.Error("a run naming a disabled peer was accepted")
	}
	f.must(t, []byte(fmt.Sprintf(`{"action":"reset_watermark","peers":["delta"],"watermark":%q,"reason":"skip the first row"}`, first)), nil)

	f.must(t, []byte(fmt.Sprintf(`{"action":"registry_put","peer":{"id":"delta","url":%q}}`, deltaTS.URL)), nil)
	rep := f.run(t, eventFile(t, "scheduled.json"))
	d := peerOf(t, rep, "delta")
	if d.Status != catchup.StatusCaughtUp || d.Applied != 5 || d.PrevWatermark != first {
		t.Errorf("delta enabled: %+v, want 5 rows after the reset value", d)
	}
	wm := f.mark(t, "delta").Value
	if wm == "" || wm != d.Watermark {
		t.Errorf("delta's watermark %q, report %q", wm, d.Watermark)
	}

	f.must(t, []byte(`{"action":"registry_delete","peers":["delta"]}`), nil)
	if rep := f.run(t, eventFile(t, "scheduled.json")); len(rep.Peers) != 2 {
		t.Errorf("after delete, pulled %v", ids(rep))
	}
	f.must(t, []byte(fmt.Sprintf(`{"action":"registry_put","peer":{"id":"delta","url":%q}}`, deltaTS.URL)), nil)
	delta.ClearRequests()
	f.run(t, eventFile(t, "scheduled.json"))
	if reqs := delta.Requests(); len(reqs) == 0 || reqs[0].Since != wm {
		t.Errorf("re-registered delta asked %+v, want since=%s (where it was)", reqs, wm)
	}
}

// Entries written around the validation (an older version, a hand edit)
// cannot hurt: PEERS wins over a registered id, and an invalid entry is
// skipped with an error line while every other peer is pulled.
func TestRegistryEntriesThatCannotHurt(t *testing.T) {
	f := newOpsFixture(t, nil)
	impostor, impostorTS := peertest.NewHTTPTest(t, peertest.WithRows(peertest.Backlog(3, 4, 1, false)))
	ctx := context.Background()
	for _, rp := range []ddbstore.RegisteredPeer{
		{ID: "alpha", URL: impostorTS.URL},
		{ID: "evil", URL: "http://203.0.113.9"},
	} {
		if err := f.app.store.PutRegistryPeer(ctx, rp); err != nil {
			t.Fatal(err)
		}
	}
	rep := f.run(t, eventFile(t, "scheduled.json"))
	if diff := cmp.Diff([]string{"alpha", "beta"}, ids(rep)); diff != "" || rep.Failed() != 0 {
		t.Errorf("peers pulled (-want +got):\n%s\nfailed %d", diff, rep.Failed())
	}
	if n := len(impostor.Requests()); n != 0 {
		t.Errorf("the registered alpha was pulled %d times; PEERS should win", n)
	}
	// Each on one line, whatever attributes (request_id, cold_start) sit between.
	for _, want := range [][2]string{{`"msg":"registered peer shadowed by PEERS"`, `"peer":"alpha"`}, {`"msg":"invalid registered peer skipped"`, `"peer":"evil"`}} {
		if !slices.ContainsFunc(strings.Split(f.logs.String(), "\n"), func(l string) bool {
			return strings.Contains(l, want[0]) && strings.Contains(l, want[1])
		}) {
			t.Errorf("logs lack a line with %s and %s", want[0], want[1])
		}
	}
}

// meshRouter serves many fake peers on one listener: /p042/api/v1/sync/since
// is peer p042's /api/v1/sync/since, so each peer's base URL is distinct.
type meshRouter map[string]*peertest.Server

func (m meshRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	s, ok := m[id]
	if !ok {
		http.NotFound(w, r)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = "/"+rest, ""
	s.ServeHTTP(w, r2)
}

// TestRegistryMeshOf500 registers 500 peers through the handler (PEERS is
// empty) and pulls them all in one pass: every row lands, every watermark is
// keyed by its peer's id.
func TestRegistryMeshOf500(t *testing.T) {
	const n = 500
	awsConfig(t)
	mesh := meshRouter{}
	ts := httptest.NewServer(mesh)
	t.Cleanup(ts.Close)
	base := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	newest, rows := map[string]string{}, 0
	for i := range n {
		id := fmt.Sprintf("p%03d", i)
		// One or two rows each: moto writes a few hundred items a second.
		var served []map[string]any
		for j := range 1 + i%2 {
			at := base.Add(time.Duration(i)*time.Second + time.Duration(j)*time.Hour).Format(time.RFC3339)
			served = append(served, peertest.Memory(fmt.Sprintf("%s-%d", id, j), at))
			newest[id] = at
		}
		mesh[id] = peertest.New(peertest.WithRows(served))
		rows += len(served)
	}
	a, _ := newPassApp(t, opsEnv("[]", map[string]string{"PEER_CONCURRENCY": "32", "WRITE_CONCURRENCY": "64"}))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	for id := range mesh {
		payload := fmt.Sprintf(`{"action":"registry_put","peer":{"id":%q,"url":"%s/%s"}}`, id, ts.URL, id)
		if _, err := a.Handle(ctx, json.RawMessage(payload)); err != nil {
			t.Fatal(err)
		}
	}
	registered := time.Since(start)

	start = time.Now()
	res, err := a.Handle(ctx, eventFile(t, "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	pass := time.Since(start)
	t.Logf("%d peers: registered in %s, pulled in one pass in %s", n, registered.Round(time.Millisecond), pass.Round(time.Millisecond))
	reported := map[string]string{}
	for _, p := range res.(*catchup.Report).Peers {
		if p.Status != catchup.StatusCaughtUp || p.Applied != 1+int(p.Peer[3]-'0')%2 {
			t.Errorf("peer %s: %s, applied %d (%s)", p.Peer, p.Status, p.Applied, p.Error)
		}
		reported[p.Peer] = p.Watermark
	}
	if diff := cmp.Diff(newest, reported); diff != "" {
		t.Errorf("reported watermarks by peer id (-want +got):\n%s", diff)
	}
	// What is stored, for one peer in ten (each read is a round trip to moto).
	for i := 0; i < n; i += 10 {
		id := fmt.Sprintf("p%03d", i+i/10%10)
		if m, err := a.store.Watermark(ctx, id); err != nil || m.Value != newest[id] {
			t.Errorf("stored watermark of %s = %q (%v), want %q", id, m.Value, err, newest[id])
		}
	}
	items, err := a.store.ScanMemories(ctx)
	if err != nil || len(items) != rows {
		t.Errorf("%d memories in the table (%v), want %d", len(items), err, rows)
	}
	if pass > 2*time.Minute {
		t.Errorf("one pass over %d peers took %s", n, pass)
	}
}
