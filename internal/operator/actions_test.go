package operator

// Every action and the scheduled run through Handle, on in-memory fakes.

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/ddbstore"
)

func TestScheduledTickRunsEveryPeerWithMetrics(t *testing.T) {
	for _, payload := range []string{``, `{}`, `null`,
		`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","time":"2026-12-01T12:00:00Z","detail":{}}`} {
		f := newFixture(t)
		f.store.registry["gamma"] = ddbstore.RegisteredPeer{ID: "gamma", URL: "https://gamma.example.net"}
		f.store.registry["off"] = ddbstore.RegisteredPeer{ID: "off", URL: "https://off.example.net", Disabled: true}
		f.store.registry["alpha"] = ddbstore.RegisteredPeer{ID: "alpha", URL: "https://shadow.example.net"}
		rep := f.ok(t, payload)
		if len(f.runner.passes) != 1 {
			t.Fatalf("%q: passes %v", payload, f.runner.passes)
		}
		p := f.runner.passes[0]
		if got := peerIDs(p.Peers); !slices.Equal(got, []string{"alpha", "beta", "gamma"}) || p.DryRun || p.IgnoreBreaker || p.Range != nil {
			t.Errorf("%q: pass %+v over %v", payload, p, got)
		}
		if p.Peers[0].URL != "https://alpha.example.net" {
			t.Errorf("the registry shadowed PEERS: %v", p.Peers[0].URL)
		}
		if n := len(rep["peers"].([]any)); n != 3 {
			t.Errorf("%q: report of %d peers", payload, n)
		}
		if !strings.Contains(f.metrics.String(), `"Peer":"gamma"`) || !strings.Contains(f.logs.String(), "registered peer shadowed by PEERS") {
			t.Errorf("%q: metrics %q / logs %q", payload, f.metrics.String(), f.logs.String())
		}
	}
}

func TestRunNamedPeers(t *testing.T) {
	f := newFixture(t)
	f.ok(t, `{"action":"run","peers":["beta","beta"]}`)
	p := f.runner.passes[0]
	if !slices.Equal(peerIDs(p.Peers), []string{"beta"}) || !p.IgnoreBreaker {
		t.Errorf("named run: %+v", p)
	}
	if _, err := f.do(t, `{"peers":["nope"]}`); err == nil || !strings.Contains(err.Error(), `"nope" is not a configured peer`) {
		t.Errorf("unknown peer: %v", err)
	}
	if len(f.runner.passes) != 1 {
		t.Errorf("an unknown peer still ran: %d passes", len(f.runner.passes))
	}
}

func TestDryRunEmitsNoMetrics(t *testing.T) {
	f := newFixture(t)
	rep := f.ok(t, `{"action":"run","dry_run":true}`)
	if !f.runner.passes[0].DryRun || rep["dry_run"] != true {
		t.Errorf("dry run: %+v %v", f.runner.passes[0], rep)
	}
	if f.metrics.Len() != 0 {
		t.Errorf("a dry run emitted metrics: %s", f.metrics.String())
	}
}

func TestEveryPeerFailedIsAnError(t *testing.T) {
	f := newFixture(t)
	f.runner.status = map[string]string{"alpha": catchup.StatusFailed, "beta": catchup.StatusFailed}
	rep, err := f.do(t, `{}`)
	if !errors.Is(err, errAllFailed) || !strings.Contains(err.Error(), "2 of 2") || rep == nil {
		t.Fatalf("all failed: %v %v", rep, err)
	}
	f.runner.status = map[string]string{"alpha": catchup.StatusFailed}
	if _, err := f.do(t, `{}`); err != nil {
		t.Errorf("one of two failed is not the invocation's error: %v", err)
	}
	if !strings.Contains(f.logs.String(), `"msg":"peer failed"`) {
		t.Errorf("no failure line: %s", f.logs.String())
	}
}

func TestBackfill(t *testing.T) {
	f := newFixture(t)
	f.ok(t, `{"action":"backfill","peers":["alpha"],"from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z"}`)
	p := f.runner.passes[0]
	if p.Range == nil || p.Range.From != "2026-01-01T00:00:00Z" || p.Range.To != "2026-02-01T00:00:00Z" || !slices.Equal(peerIDs(p.Peers), []string{"alpha"}) {
		t.Errorf("backfill pass: %+v", p)
	}
	if f.metrics.Len() != 0 {
		t.Errorf("a backfill emitted live metrics: %s", f.metrics.String())
	}
	for payload, want := range map[string]string{
		`{"action":"backfill","from":"2026-01-01T00:00:00Z"}`:                                               `backfill needs "peers"`,
		`{"action":"backfill","peers":["alpha"],"from":"yesterday"}`:                                        `from: "yesterday" is not an RFC 3339 timestamp`,
		`{"action":"backfill","peers":["alpha"],"from":"2026-02-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}`: `must sort after from`,
	} {
		if _, err := f.do(t, payload); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", payload, err, want)
		}
	}
	if len(f.runner.passes) != 1 {
		t.Errorf("a refused backfill ran: %d passes", len(f.runner.passes))
	}
}

func TestResetWatermark(t *testing.T) {
	f := newFixture(t)
	f.store.registry["gamma"] = ddbstore.RegisteredPeer{ID: "gamma", URL: "https://gamma.example.net", Disabled: true}
	f.store.marks["alpha"] = replicaMark("2026-11-01T00:00:00Z", 3)
	res := f.ok(t, `{"action":"reset_watermark","peers":["alpha","gamma"],"watermark":"2026-10-01T00:00:00Z"}`)
	reset := res["reset"].([]any)
	a := reset[0].(map[string]any)
	if a["peer"] != "alpha" || a["previous"] != "2026-11-01T00:00:00Z" || a["new"] != "2026-10-01T00:00:00Z" {
		t.Errorf("alpha: %v", a)
	}
	h := a["history"].([]any)[0].(map[string]any)
	if h["reason"] != "operator reset" || h["previous_epoch"] != 3.0 || h["epoch"] != 4.0 {
		t.Errorf("history: %v", h)
	}
	if f.store.marks["gamma"].Value != "2026-10-01T00:00:00Z" {
		t.Errorf("a disabled registered peer was not reset: %v", f.store.marks)
	}
	for payload, want := range map[string]string{
		`{"action":"reset_watermark","watermark":"2026-10-01T00:00:00Z"}`:                  `reset_watermark needs "peers"`,
		`{"action":"reset_watermark","peers":["alpha"],"watermark":"last week"}`:           `is not an RFC 3339 timestamp`,
		`{"action":"reset_watermark","peers":["zeta"],"watermark":"2026-10-01T00:00:00Z"}`: `"zeta" is neither in PEERS nor in the registry`,
	} {
		if _, err := f.do(t, payload); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", payload, err, want)
		}
	}
	if f.store.marks["alpha"].Epoch != 4 {
		t.Errorf("a refused reset wrote: %v", f.store.marks["alpha"])
	}
}

func TestListAndReplayQuarantine(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("x", previewBytes+100)
	for _, k := range []string{"k1", "k2", "k3"} {
		f.store.quarantine["beta"] = append(f.store.quarantine["beta"],
			replica.Quarantined{Peer: "beta", Key: k, RowID: "row-" + k, Reason: "bad", Raw: []byte(big), RawBytes: len(big)})
	}
	res := f.ok(t, `{"action":"list_quarantine","peers":["beta"],"limit":2}`)
	b := res["quarantine"].(map[string]any)["beta"].(map[string]any)
	rows := b["rows"].([]any)
	if b["count"] != 3.0 || len(rows) != 2 {
		t.Fatalf("listing: %v", b)
	}
	if r := rows[0].(map[string]any); r["row_id"] != "row-k1" || len(r["raw_preview"].(string)) != previewBytes || r["raw_bytes"] != float64(len(big)) {
		t.Errorf("row: key %v, preview %d bytes", r["row_id"], len(r["raw_preview"].(string)))
	}
	res = f.ok(t, `{"action":"replay_quarantine","peers":["beta","alpha"],"dry_run":true}`)
	if !slices.Equal(f.runner.replays, []string{"beta dry", "alpha dry"}) || res["dry_run"] != true || f.runner.replayedBy != f.store {
		t.Errorf("replay: %v %v", f.runner.replays, res)
	}
	if _, err := f.do(t, `{"action":"list_quarantine"}`); err == nil {
		t.Error("list_quarantine without peers accepted")
	}
}

func TestRegistryActions(t *testing.T) {
	f := newFixture(t)
	res := f.ok(t, `{"action":"registry_put","peer":{"id":"gamma","url":"https://gamma.example.net/","secret_id":"catchup/gamma"},"disabled":true}`)
	want := ddbstore.RegisteredPeer{ID: "gamma", URL: "https://gamma.example.net", SecretID: "catchup/gamma", Disabled: true}
	if got := f.store.registry["gamma"]; got != want || res["registry_enabled"] != true {
		t.Errorf("put: %+v, want %+v (%v)", got, want, res)
	}
	res = f.ok(t, `{"action":"registry_list"}`)
	if reg := res["registry"].([]any); len(reg) != 1 || reg[0].(map[string]any)["id"] != "gamma" || len(res["env_peers"].([]any)) != 2 {
		t.Errorf("list: %v", res)
	}
	for payload, want := range map[string]string{
		`{"action":"registry_put"}`: `registry_put needs "peer"`,
		`{"action":"registry_put","peer":{"id":"alpha","url":"https://a.example.net"}}`:    `"alpha" is in PEERS`,
		`{"action":"registry_put","peer":{"id":"delta","url":"http://delta.example.net"}}`: `event: peer:`,
		`{"action":"registry_delete"}`: `registry_delete needs "peers"`,
	} {
		if _, err := f.do(t, payload); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", payload, err, want)
		}
	}
	if _, ok := f.store.registry["delta"]; ok {
		t.Error("an invalid peer was registered")
	}
	f.ok(t, `{"action":"registry_delete","peers":["gamma"]}`)
	if len(f.store.registry) != 0 {
		t.Errorf("delete: %v", f.store.registry)
	}
}

func TestRegistryUnreadable(t *testing.T) {
	f := newFixture(t)
	f.store.regErr = errors.New("throttled")
	f.ok(t, `{}`) // PEERS still run
	if got := peerIDs(f.runner.passes[0].Peers); !slices.Equal(got, []string{"alpha", "beta"}) ||
		!strings.Contains(f.logs.String(), "peer registry unreadable") {
		t.Errorf("peers %v, logs %s", got, f.logs.String())
	}
	f.h.Peers = nil
	if _, err := f.do(t, `{}`); err == nil || !strings.Contains(err.Error(), "read peer registry: throttled") {
		t.Errorf("registry only: %v", err)
	}
}

func TestReconcileAction(t *testing.T) {
	f := newFixture(t)
	f.env["RECONCILE_MAX_DELETE_PERCENT"] = "25"
	f.ok(t, `{"action":"reconcile","dry_run":true,"max_deletions":5}`)
	rc := f.runner.reconciles[0]
	if !rc.DryRun || rc.MaxDeletions != 5 || !slices.Equal(peerIDs(rc.Peers), []string{"alpha", "beta"}) || f.runner.recOpts[0].MaxDeletePercent != 25 {
		t.Errorf("reconcile: %+v %+v", rc, f.runner.recOpts[0])
	}
	for payload, want := range map[string]string{
		`{"action":"reconcile","peers":["alpha"]}`:  `"peers" is not allowed`,
		`{"action":"reconcile","max_deletions":-1}`: `max_deletions -1 is negative`,
	} {
		if _, err := f.do(t, payload); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", payload, err, want)
		}
	}
	f.env["TOMBSTONE_RETENTION"] = "5m"
	if _, err := f.do(t, `{"action":"reconcile"}`); err == nil || !strings.HasPrefix(err.Error(), "TOMBSTONE_RETENTION") {
		t.Errorf("bad retention: %v", err)
	}
	delete(f.env, "TOMBSTONE_RETENTION")
	f.runner.recErr = "walk of beta failed"
	if rep, err := f.do(t, `{"action":"reconcile"}`); err == nil || rep == nil {
		t.Errorf("a failed reconcile: %v %v", rep, err)
	}
	if len(f.runner.reconciles) != 2 {
		t.Errorf("refused reconciles ran: %d", len(f.runner.reconciles))
	}
}

func TestUnknownAction(t *testing.T) {
	f := newFixture(t)
	if _, err := f.do(t, `{"action":"explode"}`); err == nil || !strings.Contains(err.Error(), `action "explode" is not one of`) {
		t.Errorf("unknown action: %v", err)
	}
	if _, err := f.do(t, `{"action":"run","dryrun":true}`); err == nil || len(f.runner.passes) != 0 {
		t.Errorf("a typo ran: %v", err)
	}
}
