package catchup

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// memQuarantine is the quarantine of the state table in a map, keyed by
// peer and key as ddbstore keys it.
type memQuarantine struct {
	mu        sync.Mutex
	rows      map[string]replica.Quarantined // peer + "/" + key
	listErr   error
	deleteErr error
}

func newMemQuarantine(rows ...replica.Quarantined) *memQuarantine {
	q := &memQuarantine{rows: map[string]replica.Quarantined{}}
	for _, r := range rows {
		q.rows[r.Peer+"/"+r.Key] = r
	}
	return q
}

func (q *memQuarantine) ListQuarantine(ctx context.Context, peer string) ([]replica.Quarantined, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.listErr != nil {
		return nil, q.listErr
	}
	var out []replica.Quarantined
	for _, r := range q.rows {
		if r.Peer == peer {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (q *memQuarantine) DeleteQuarantine(ctx context.Context, peer, key string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleteErr != nil {
		return q.deleteErr
	}
	delete(q.rows, peer+"/"+key)
	return nil
}

func (q *memQuarantine) keys(peer string) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, r := range q.rows {
		if r.Peer == peer {
			out = append(out, r.Key)
		}
	}
	sort.Strings(out)
	return out
}

// quarantineEntry builds a quarantine entry whose raw row has these fields on top
// of a valid row's.
func quarantineEntry(t *testing.T, key, id, updatedAt string, edit map[string]any) replica.Quarantined {
	t.Helper()
	row := map[string]any{
		"id": id, "tier": "mid", "namespace": "ops/replay", "title": "t " + id,
		"content": "c " + id + " " + updatedAt, "tags": []string{}, "priority": 5, "confidence": 0.5,
		"source": "api", "access_count": 0, "created_at": updatedAt, "updated_at": updatedAt,
	}
	for k, v := range edit {
		row[k] = v
	}
	raw, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	return replica.Quarantined{Peer: "a", Key: key, RowID: id, UpdatedAt: updatedAt, Reason: "was invalid", Raw: raw, RawBytes: len(raw)}
}

// A replay writes what is valid now and clears it, keeps what is still
// invalid, truncated or unwritable with the reason, and clears rows the
// table already has newer.
func TestReplayAppliesWhatIsValidNow(t *testing.T) {
	at := ts(3, 0)
	truncated := quarantineEntry(t, "k5", "cut", at, nil)
	truncated.Raw, truncated.Truncated, truncated.RawBytes = truncated.Raw[:20], true, 500*1024
	q := newMemQuarantine(
		quarantineEntry(t, "k1", "fixed", at, nil),                                 // our validator was wrong
		quarantineEntry(t, "k2", "still-bad", at, map[string]any{"priority": 11}),  // still breaks §5
		quarantineEntry(t, "k3", "older", at, nil),                                 // the table moved on
		quarantineEntry(t, "k4", "huge", at, map[string]any{"content": "too big"}), // DynamoDB refuses it
		truncated,
	)
	st := newMemStore()
	st.items["older"] = replica.Memory{ID: "older", UpdatedAt: ts(9, 0), Instant: testNow}
	st.failWrite = func(m replica.Memory) error {
		if m.ID == "huge" {
			return replica.ErrUnwritable
		}
		return nil
	}
	rep := newRunner(nil, st, 10).Replay(context.Background(), q, "a", false)

	want := ReplayReport{Peer: "a", Listed: 5, Applied: 1, Stale: 1, StillInvalid: 3}
	if diff := cmp.Diff(want, rep, cmpopts.IgnoreFields(ReplayReport{}, "Failures")); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	reasons := map[string]string{}
	for _, f := range rep.Failures {
		reasons[f.ID] = f.Error
	}
	for id, part := range map[string]string{"still-bad": "priority", "huge": "never be written", "cut": "truncated"} {
		if !strings.Contains(reasons[id], part) {
			t.Errorf("reason for %s = %q, want it to mention %q", id, reasons[id], part)
		}
	}
	if diff := cmp.Diff([]string{"k2", "k4", "k5"}, q.keys("a")); diff != "" {
		t.Errorf("left in quarantine (-want +got):\n%s", diff)
	}
	if got, ok := st.items["fixed"]; !ok || got.UpdatedAt != at || got.Peer != "a" || got.Fields["namespace"] != "ops/replay" {
		t.Errorf("fixed row in the table = %+v, %v", got, ok)
	}
	if st.items["older"].UpdatedAt != ts(9, 0) {
		t.Error("replay overwrote a newer version")
	}
}

// A dry replay reads and validates, and changes nothing.
func TestReplayDryRunChangesNothing(t *testing.T) {
	q := newMemQuarantine(
		quarantineEntry(t, "k1", "fixed", ts(1, 0), nil),
		quarantineEntry(t, "k2", "still-bad", ts(1, 0), map[string]any{"title": " "}),
	)
	st := newMemStore()
	rep := newRunner(nil, st, 10).Replay(context.Background(), q, "a", true)
	if rep.Applied != 1 || rep.StillInvalid != 1 || rep.Failed != 0 {
		t.Errorf("dry replay = %+v, want 1 would apply, 1 still invalid", rep)
	}
	if st.puts != 0 || len(st.items) != 0 {
		t.Errorf("dry replay wrote %d rows", st.puts)
	}
	if diff := cmp.Diff([]string{"k1", "k2"}, q.keys("a")); diff != "" {
		t.Errorf("dry replay cleared rows (-want +got):\n%s", diff)
	}
}

// A row that could not be written, or written but not cleared, stays
// quarantined and counts as failed; replaying again finishes the job.
func TestReplayKeepsRowsItCouldNotFinish(t *testing.T) {
	q := newMemQuarantine(quarantineEntry(t, "k1", "x", ts(1, 0), nil), quarantineEntry(t, "k2", "y", ts(2, 0), nil))
	st := newMemStore()
	st.failWrite = func(m replica.Memory) error {
		if m.ID == "x" {
			return errors.New("throttled")
		}
		return nil
	}
	q.deleteErr = errors.New("state table unreachable")
	rep := newRunner(nil, st, 10).Replay(context.Background(), q, "a", false)
	if rep.Failed != 2 || rep.Applied != 0 || len(rep.Failures) != 2 {
		t.Fatalf("report = %+v, want 2 failed", rep)
	}
	if !strings.Contains(rep.Failures[1].Error, "not cleared") {
		t.Errorf("failure for y = %q, want it to say the row was written but not cleared", rep.Failures[1].Error)
	}
	if diff := cmp.Diff([]string{"k1", "k2"}, q.keys("a")); diff != "" {
		t.Errorf("quarantine (-want +got):\n%s", diff)
	}

	st.failWrite, q.deleteErr = nil, nil
	again := newRunner(nil, st, 10).Replay(context.Background(), q, "a", false)
	if again.Applied != 1 || again.Stale != 1 || len(q.keys("a")) != 0 {
		t.Errorf("second replay = %+v, left %v; want x applied, y (already written) stale, all cleared", again, q.keys("a"))
	}
}

func TestReplayReportsListError(t *testing.T) {
	q := newMemQuarantine()
	q.listErr = errors.New("state table unreachable")
	rep := newRunner(nil, newMemStore(), 10).Replay(context.Background(), q, "a", false)
	if rep.Error == "" || rep.Listed != 0 {
		t.Errorf("report = %+v, want the list error", rep)
	}
}

// Another peer's quarantine is not touched.
func TestReplayOnlyThatPeer(t *testing.T) {
	other := quarantineEntry(t, "k9", "z", ts(1, 0), nil)
	other.Peer = "b"
	q := newMemQuarantine(quarantineEntry(t, "k1", "x", ts(1, 0), nil), other)
	st := newMemStore()
	if rep := newRunner(nil, st, 10).Replay(context.Background(), q, "a", false); rep.Listed != 1 || rep.Applied != 1 {
		t.Errorf("report = %+v", rep)
	}
	if diff := cmp.Diff([]string{"k9"}, q.keys("b")); diff != "" || st.items["z"].ID != "" {
		t.Errorf("peer b's quarantine changed (-want +got):\n%s", diff)
	}
}

// A row still invalid whose memory the table holds in a version that wins
// (the peer fixed it since) is cleared as superseded; one the table does not
// hold, or holds older, stays.
func TestReplayClearsSupersededRows(t *testing.T) {
	bad := map[string]any{"priority": 11}
	q := newMemQuarantine(
		quarantineEntry(t, "k1", "fixed-on-peer", ts(1, 0), bad),
		quarantineEntry(t, "k2", "older-in-table", ts(5, 0), bad),
		quarantineEntry(t, "k3", "absent", ts(1, 0), bad),
		quarantineEntry(t, "k4", "", ts(1, 0), bad),
		quarantineEntry(t, "k5", "no-stamp", "yesterday", nil),
	)
	st := newMemStore()
	st.items["fixed-on-peer"] = replica.Memory{ID: "fixed-on-peer", UpdatedAt: ts(2, 0), Instant: testNow}
	st.items["older-in-table"] = replica.Memory{ID: "older-in-table", UpdatedAt: ts(1, 0), Instant: testNow.Add(-24 * 365 * time.Hour)}

	dry := newRunner(nil, st, 10).Replay(context.Background(), q, "a", true)
	if dry.Superseded != 1 || dry.StillInvalid != 4 || len(q.keys("a")) != 5 {
		t.Errorf("dry replay = %+v, left %v; want 1 superseded, nothing cleared", dry, q.keys("a"))
	}
	rep := newRunner(nil, st, 10).Replay(context.Background(), q, "a", false)
	if rep.Superseded != 1 || rep.StillInvalid != 4 || rep.Applied != 0 {
		t.Errorf("replay = %+v, want 1 superseded, 4 still invalid", rep)
	}
	if diff := cmp.Diff([]string{"k2", "k3", "k4", "k5"}, q.keys("a")); diff != "" {
		t.Errorf("left in quarantine (-want +got):\n%s", diff)
	}
	if st.puts != 0 {
		t.Errorf("replay wrote %d invalid rows", st.puts)
	}
}

// A row quarantined for a leap second (23:59:60, which the peers accept) is
// valid now: a replay writes it and clears it.
func TestReplayAppliesLeapSecond(t *testing.T) {
	const leap = "2026-06-30T23:59:60.5+00:00"
	q := newMemQuarantine(quarantineEntry(t, "k1", "leap", leap, nil))
	st := newMemStore()
	rep := newRunner(nil, st, 10).Replay(context.Background(), q, "a", false)
	if rep.Applied != 1 || rep.StillInvalid != 0 {
		t.Errorf("report = %+v, want the leap-second row applied", rep)
	}
	if got, ok := st.items["leap"]; !ok || got.UpdatedAt != leap {
		t.Errorf("leap-second row in the table = %+v, %v", got, ok)
	}
	if len(q.keys("a")) != 0 {
		t.Errorf("left in quarantine: %v", q.keys("a"))
	}
}
