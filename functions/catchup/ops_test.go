package main

// Every operator action through the handler, with the payload files of
// events/, against moto and fake peers: what each answers, and what it
// changes (or leaves alone) in the tables.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/fakeclock"
	"github.com/aimemory/catchup/internal/operator"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/watermark"
)

// withClock rebuilds the app's store and runner around now, as newApp builds
// them around time.Now, so that breaker retry times, rotation and metric
// timestamps follow the test rather than the wall clock.
func withClock(t *testing.T, a *app, now func() time.Time) {
	t.Helper()
	b, err := newApp(context.Background(), a.cfg, a.log, false, now)
	if err != nil {
		t.Fatal(err)
	}
	*a = *b
}

// opsEnv is the variables of a small mesh; extra overrides or adds
// variables. Its table names are placeholders newPassApp replaces with
// fresh tables.
func opsEnv(peersJSON string, extra map[string]string) map[string]string {
	env := map[string]string{
		"LOCAL_AGENT_ID": "ops-replica", "PEERS": peersJSON, "PAGE_LIMIT": "5", "REQUEST_TIMEOUT": "5s",
		"MEMORIES_TABLE": "ops-memories", "STATE_TABLE": "ops-state",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func peersJSON(t *testing.T, idURL ...string) string {
	t.Helper()
	var ps []map[string]string
	for i := 0; i+1 < len(idURL); i += 2 {
		ps = append(ps, map[string]string{"id": idURL[i], "url": idURL[i+1]})
	}
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// opsFixture is alpha and beta, the peers the files of events/ name.
type opsFixture struct {
	app         *app
	logs        *bytes.Buffer
	metrics     *bytes.Buffer
	clock       *fakeclock.Clock
	alpha, beta *peertest.Server
}

// The rows alpha serves: two on 1 May (inside backfill.json's range), ten in
// June, and one invalid row.
const (
	may1     = "2026-05-01T06:00:00Z"
	may2     = "2026-05-01T18:00:00Z"
	mayLate  = "2026-05-01T12:00:00Z" // restored from a backup after alpha was pulled
	newestAt = "2026-06-10T10:00:00Z"
)

func newOpsFixture(t *testing.T, extra map[string]string) *opsFixture {
	t.Helper()
	awsConfig(t)
	rows := []map[string]any{peertest.Memory("may-1", may1), peertest.Memory("may-2", may2)}
	for i := 1; i <= 10; i++ {
		rows = append(rows, peertest.Memory(fmt.Sprintf("jun-%02d", i), fmt.Sprintf("2026-06-%02dT10:00:00Z", i)))
	}
	bad := peertest.Memory("bad-prio", "2026-06-05T11:00:00Z")
	bad["priority"] = 11
	alpha, alphaTS := peertest.NewHTTPTest(t, peertest.WithRows(append(rows, bad)))
	beta, betaTS := peertest.NewHTTPTest(t, peertest.WithRows(peertest.Backlog(7, 3, 2, true)))
	a, logs := newPassApp(t, opsEnv(peersJSON(t, "alpha", alphaTS.URL, "beta", betaTS.URL), extra))
	f := &opsFixture{app: a, logs: logs, metrics: &bytes.Buffer{}, clock: fakeclock.New(time.Now().UTC()), alpha: alpha, beta: beta}
	withClock(t, a, f.clock.Now)
	a.Metrics = f.metrics
	return f
}

// invoke calls the handler with payload and decodes its answer into out
// through JSON, as the operator reads it.
func (f *opsFixture) invoke(t *testing.T, payload []byte, out any) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := f.app.Handle(ctx, payload)
	if res != nil && out != nil {
		b, merr := json.Marshal(res)
		if merr != nil {
			t.Fatal(merr)
		}
		if uerr := json.Unmarshal(b, out); uerr != nil {
			t.Fatalf("answer %s: %v", b, uerr)
		}
	}
	return err
}

// must is invoke that fails the test on an error.
func (f *opsFixture) must(t *testing.T, payload []byte, out any) {
	t.Helper()
	if err := f.invoke(t, payload, out); err != nil {
		t.Fatalf("%s: %v", payload, err)
	}
}

func (f *opsFixture) run(t *testing.T, payload []byte) catchup.Report {
	t.Helper()
	var rep catchup.Report
	f.must(t, payload, &rep)
	return rep
}

func (f *opsFixture) mark(t *testing.T, peer string) watermark.Mark {
	t.Helper()
	m, err := f.app.store.Watermark(context.Background(), peer)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *opsFixture) memory(t *testing.T, id string) (string, bool) {
	t.Helper()
	items, err := f.app.store.ScanMemories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.ID == id {
			return it.UpdatedAt, true
		}
	}
	return "", false
}

func peerOf(t *testing.T, rep catchup.Report, id string) catchup.PeerReport {
	t.Helper()
	for _, p := range rep.Peers {
		if p.Peer == id {
			return p
		}
	}
	t.Fatalf("no peer %s in the report %+v", id, rep.Peers)
	return catchup.PeerReport{}
}

func ids(rep catchup.Report) []string {
	var out []string
	for _, p := range rep.Peers {
		out = append(out, p.Peer)
	}
	return out
}

// TestOperatorActions runs the payloads of events/ in an order an operator
// might, each step building on the last.
func TestOperatorActions(t *testing.T) {
	f := newOpsFixture(t, nil)
	steps := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"dry run writes nothing and emits no metrics", func(t *testing.T) {
			rep := f.run(t, eventFile(t, "dry-run.json"))
			a := peerOf(t, rep, "alpha")
			if !rep.DryRun || a.Applied != 12 || a.Invalid != 1 || peerOf(t, rep, "beta").Applied != 7 {
				t.Errorf("dry run report: dry_run %v, alpha %+v", rep.DryRun, a)
			}
			if _, ok := f.memory(t, "jun-01"); ok || f.mark(t, "alpha").Value != "" || f.quarantined(t, "alpha") != 0 {
				t.Error("the dry run wrote a memory, a watermark or a quarantined row")
			}
			if f.metrics.Len() != 0 {
				t.Errorf("a dry run emitted metrics: %s", f.metrics)
			}
		}},
		{"subset", func(t *testing.T) {
			rep := f.run(t, eventFile(t, "run-peers.json"))
			if diff := cmp.Diff([]string{"alpha"}, ids(rep)); diff != "" {
				t.Errorf("peers pulled (-want +got):\n%s", diff)
			}
			if a := peerOf(t, rep, "alpha"); a.Status != catchup.StatusCaughtUp || a.Applied != 12 || a.Watermark != newestAt {
				t.Errorf("alpha = %+v", a)
			}
			if f.mark(t, "alpha").Value != newestAt || f.mark(t, "beta").Value != "" {
				t.Errorf("watermarks alpha %q beta %q", f.mark(t, "alpha").Value, f.mark(t, "beta").Value)
			}
		}},
		{"backfill pulls a range without moving the live watermark", f.checkBackfill},
		{"list quarantine", f.checkListQuarantine},
		{"replay after the cause is fixed", f.checkReplay},
		{"reset keeps history and the next run pulls from the new value", f.checkReset},
		{"replay clears a row the peer has fixed since", f.checkSuperseded},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.check) {
			t.FailNow()
		}
	}
}

func (f *opsFixture) checkBackfill(t *testing.T) {
	f.alpha.Put(peertest.Memory("may-late", mayLate)) // a backup restored on alpha
	if a := peerOf(t, f.run(t, eventFile(t, "scheduled.json")), "alpha"); a.Applied != 0 {
		t.Fatalf("a live run applied %d rows: it should not look behind the watermark", a.Applied)
	}
	before := f.mark(t, "alpha")
	f.alpha.ClearRequests()
	f.metrics.Reset()
	rep := f.run(t, eventFile(t, "backfill.json"))
	a := peerOf(t, rep, "alpha")
	// Page one from 2026-05-01T00:00:00Z: the three May rows and two June
	// rows, which end the range.
	if len(rep.Peers) != 1 || a.Status != catchup.StatusCaughtUp || a.Applied != 1 || a.Stale != 4 || a.Pages != 1 {
		t.Errorf("backfill report = %+v", rep.Peers)
	}
	if got := f.mark(t, "alpha"); got != before {
		t.Errorf("live watermark %+v, was %+v", got, before)
	}
	if at, ok := f.memory(t, "may-late"); !ok || at != mayLate {
		t.Errorf("may-late in the table: %q %v", at, ok)
	}
	if reqs := f.alpha.Requests(); len(reqs) != 1 || reqs[0].Since != "2026-05-01T00:00:00Z" {
		t.Errorf("backfill requests: %+v", reqs)
	}
	if f.metrics.Len() != 0 {
		t.Errorf("a backfill emitted metrics (its cursor is not a lag): %s", f.metrics)
	}
}

func (f *opsFixture) quarantined(t *testing.T, peer string) int {
	t.Helper()
	n, err := f.app.store.QuarantineCount(context.Background(), peer)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// quarantineList is list_quarantine's answer.
type quarantineList struct {
	Quarantine map[string]struct {
		Count int                       `json:"count"`
		Rows  []operator.QuarantineView `json:"rows"`
	} `json:"quarantine"`
}

func (f *opsFixture) checkListQuarantine(t *testing.T) {
	var got quarantineList
	f.must(t, eventFile(t, "list-quarantine.json"), &got)
	q := got.Quarantine["alpha"]
	if q.Count != 1 || len(q.Rows) != 1 {
		t.Fatalf("alpha's quarantine = %+v, want the one invalid row", q)
	}
	r := q.Rows[0]
	if r.RowID != "bad-prio" || !strings.Contains(r.Reason, "priority") || !strings.Contains(r.RawPreview, `"priority":11`) ||
		r.RawBytes != len(r.RawPreview) || r.FirstSeen.IsZero() || r.Key == "" {
		t.Errorf("listed row = %+v", r)
	}
}

// replayAnswer is replay_quarantine's answer.
type replayAnswer struct {
	Replay []catchup.ReplayReport `json:"replay"`
	DryRun bool                   `json:"dry_run"`
}

// checkReplay records, as if our validator had wrongly refused it, a valid
// row in alpha's quarantine; the replay applies it and clears it, and keeps
// the row that is still invalid.
func (f *opsFixture) checkReplay(t *testing.T) {
	ctx := context.Background()
	raw, _ := json.Marshal(peertest.Memory("was-wrong", "2026-06-06T09:00:00Z"))
	err := f.app.store.Quarantine(ctx, replica.Quarantined{Peer: "alpha", RowID: "was-wrong",
		UpdatedAt: "2026-06-06T09:00:00Z", Reason: "tags: refused by a validator bug since fixed", Raw: raw})
	if err != nil {
		t.Fatal(err)
	}
	var dry replayAnswer
	f.must(t, []byte(`{"action":"replay_quarantine","peers":["alpha"],"dry_run":true}`), &dry)
	if !dry.DryRun || len(dry.Replay) != 1 || dry.Replay[0].Applied != 1 || f.quarantined(t, "alpha") != 2 {
		t.Errorf("dry replay = %+v, %d left", dry, f.quarantined(t, "alpha"))
	}
	if _, ok := f.memory(t, "was-wrong"); ok {
		t.Fatal("a dry replay wrote the row")
	}

	var got replayAnswer
	f.must(t, eventFile(t, "replay-quarantine.json"), &got)
	want := []catchup.ReplayReport{{Peer: "alpha", Listed: 2, Applied: 1, StillInvalid: 1}}
	if diff := cmp.Diff(want, got.Replay, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Failures" }, cmp.Ignore())); diff != "" {
		t.Errorf("replay (-want +got):\n%s", diff)
	}
	if at, ok := f.memory(t, "was-wrong"); !ok || at != "2026-06-06T09:00:00Z" {
		t.Errorf("was-wrong in the table: %q %v", at, ok)
	}
	if n := f.quarantined(t, "alpha"); n != 1 {
		t.Errorf("%d rows left in quarantine, want bad-prio only", n)
	}
}

// checkSuperseded has alpha fix its invalid row: the fixed version is pulled
// as usual, and a replay clears the quarantined one, which can never win.
func (f *opsFixture) checkSuperseded(t *testing.T) {
	f.alpha.Put(peertest.Memory("bad-prio", "2026-06-20T00:00:00Z"))
	if a := peerOf(t, f.run(t, eventFile(t, "run-peers.json")), "alpha"); a.Applied != 1 {
		t.Fatalf("the fixed row was not applied: %+v", a)
	}
	var got replayAnswer
	f.must(t, eventFile(t, "replay-quarantine.json"), &got)
	if len(got.Replay) != 1 || got.Replay[0].Superseded != 1 || f.quarantined(t, "alpha") != 0 {
		t.Errorf("replay = %+v, %d left; want bad-prio superseded and cleared", got.Replay, f.quarantined(t, "alpha"))
	}
}

// resetAnswer is reset_watermark's answer.
type resetAnswer struct {
	Reset []struct {
		Peer     string                 `json:"peer"`
		Previous string                 `json:"previous"`
		New      string                 `json:"new"`
		History  []operator.HistoryView `json:"history"`
	} `json:"reset"`
}

func (f *opsFixture) checkReset(t *testing.T) {
	before := f.mark(t, "alpha")
	var first resetAnswer
	f.must(t, eventFile(t, "reset-watermark.json"), &first)
	if len(first.Reset) != 1 || first.Reset[0].Previous != newestAt || first.Reset[0].New != "2026-05-01T00:00:00Z" {
		t.Fatalf("reset answer = %+v", first)
	}
	if got := f.mark(t, "alpha"); got != (watermark.Mark{Value: "2026-05-01T00:00:00Z", Epoch: before.Epoch + 1}) {
		t.Errorf("watermark after reset = %+v (was %+v)", got, before)
	}

	f.alpha.ClearRequests()
	rep := f.run(t, eventFile(t, "run-peers.json"))
	if reqs := f.alpha.Requests(); len(reqs) == 0 || reqs[0].Since != "2026-05-01T00:00:00Z" {
		t.Errorf("the run after the reset asked %+v, want since=2026-05-01T00:00:00Z first", reqs)
	}
	// Everything from May on again: 3 May rows and 10 June rows, already in
	// the table, and bad-prio, quarantined again (the same key).
	if a := peerOf(t, rep, "alpha"); a.Fetched != 14 || a.Stale != 13 || a.Invalid != 1 || a.Watermark != newestAt {
		t.Errorf("run after reset = %+v", a)
	}
	if n := f.quarantined(t, "alpha"); n != 1 {
		t.Errorf("%d quarantined after pulling bad-prio again, want 1", n)
	}

	var second resetAnswer
	f.must(t, []byte(`{"action":"reset_watermark","peers":["alpha"],"watermark":"","reason":"full re-pull"}`), &second)
	hist := second.Reset[0].History
	got := [][3]string{}
	for _, h := range hist {
		got = append(got, [3]string{h.Previous, h.New, h.Reason})
	}
	want := [][3]string{
		{newestAt, "2026-05-01T00:00:00Z", "re-pull May after the peer restored a backup"},
		{newestAt, "", "full re-pull"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history, oldest first (-want +got):\n%s", diff)
	}
	if hist[1].Epoch != hist[0].Epoch+1 || hist[1].PreviousEpoch != hist[0].Epoch {
		t.Errorf("epochs in the history: %+v", hist)
	}
	f.alpha.ClearRequests()
	f.run(t, eventFile(t, "run-peers.json"))
	if reqs := f.alpha.Requests(); len(reqs) == 0 || reqs[0].HasSince {
		t.Errorf("the run after a reset to \"\" asked %+v, want no since (from the beginning)", reqs)
	}
}

// Payloads an operator gets wrong are refused with the field named, and
// change nothing.
func TestOperatorMistakes(t *testing.T) {
	f := newOpsFixture(t, nil)
	f.run(t, eventFile(t, "run-peers.json"))
	before := f.mark(t, "alpha")
	for _, tc := range []struct{ payload, want string }{
		{`{"action":"run","dryrun":true}`, `unknown field "dryrun"`},
		{`{"action":"rerun"}`, `action "rerun" is not one of`},
		{`{"action":"run","peers":["gamma"]}`, `"gamma" is not a configured peer`},
		{`{"action":"backfill","from":"2026-05-01T00:00:00Z"}`, `backfill needs "peers"`},
		{`{"action":"backfill","peers":["alpha"],"from":"May 1st"}`, `from: "May 1st" is not an RFC 3339 timestamp`},
		{`{"action":"backfill","peers":["alpha"],"from":"2026-05-02T00:00:00Z","to":"2026-05-01T00:00:00Z"}`, `must sort after from`},
		{`{"action":"reset_watermark","watermark":"2026-05-01T00:00:00Z"}`, `reset_watermark needs "peers"`},
		{`{"action":"reset_watermark","peers":["alpha"],"watermark":"yesterday"}`, `watermark: "yesterday" is not an RFC 3339 timestamp`},
		{`{"action":"reset_watermark","peers":["alpha","nope"],"watermark":"2026-05-01T00:00:00Z"}`, `"nope" is neither in PEERS nor in the registry`},
		{`{"action":"list_quarantine"}`, `list_quarantine needs "peers"`},
		{`{"action":"replay_quarantine","peers":["nope"]}`, `"nope" is neither in PEERS nor in the registry`},
		{`[1,2]`, `not a JSON object`},
	} {
		err := f.invoke(t, []byte(tc.payload), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %s", tc.payload, err, tc.want)
		}
	}
	if got := f.mark(t, "alpha"); got != before {
		t.Errorf("a refused payload moved alpha's watermark to %+v", got)
	}
	if rep := f.run(t, []byte(`{"peers":["alpha","alpha"]}`)); len(rep.Peers) != 1 {
		t.Errorf("a peer named twice was pulled %d times at once", len(rep.Peers))
	}
	hist, err := f.app.store.WatermarkHistory(context.Background(), "alpha")
	if err != nil || len(hist) != 0 {
		t.Errorf("history after refused resets: %+v, %v", hist, err)
	}
}
