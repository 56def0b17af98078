package catchup

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

func TestProgressReportsWhileDraining(t *testing.T) {
	f := newFakePeer(11)
	backlog(f, "m", 1000, 1)
	var mu sync.Mutex
	clock := testNow
	now := func() time.Time { // a second passes at every reading
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	var got []Progress
	r := New(multi{"a": f}, newMemStore(), Options{
		PageLimit: 100, Now: now, ProgressEvery: 5 * time.Second,
		Progress: func(p Progress) { got = append(got, p) },
	})
	rep := r.Run(context.Background(), Pass{Peers: peerList("a")})
	if rep.Peers[0].Status != StatusCaughtUp {
		t.Fatalf("report = %+v", rep.Peers[0])
	}
	if len(got) < 2 || len(got) >= rep.Peers[0].Pages {
		t.Fatalf("%d progress reports over %d pages, want some but fewer than one a page", len(got), rep.Peers[0].Pages)
	}
	for i, p := range got {
		if p.Peer != "a" || p.Fetched <= 0 || p.Cursor == "" || p.RowsPerSec <= 0 || p.Elapsed <= 0 {
			t.Errorf("report %d = %+v", i, p)
		}
		if i > 0 && (p.Fetched <= got[i-1].Fetched || p.Pages <= got[i-1].Pages) {
			t.Errorf("report %d went backward: %+v after %+v", i, p, got[i-1])
		}
	}
}

func TestNoProgressWithoutCallbackOrBeforeInterval(t *testing.T) {
	f := newFakePeer(12)
	backlog(f, "m", 300, 1)
	called := 0
	// A fixed clock: no interval ever passes.
	r := New(multi{"a": f}, newMemStore(), Options{PageLimit: 100, Now: func() time.Time { return testNow }, Progress: func(Progress) { called++ }})
	r.Run(context.Background(), Pass{Peers: peerList("a")})
	if called != 0 {
		t.Fatalf("progress called %d times with no time passing", called)
	}
	newRunner(multi{"a": f}, newMemStore(), 100).Run(context.Background(), Pass{Peers: peerList("a")}) // nil Progress: no panic
}

// A peer's status "failed" must not sit next to a row count spelled the same.
func TestReportNamesRowCountApartFromStatus(t *testing.T) {
	b, err := json.Marshal(PeerReport{Status: StatusFailed, Failed: 0})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["failed"]; ok {
		t.Errorf("report has a key \"failed\" beside status %q: %s", m["status"], b)
	}
	if _, ok := m["rows_failed"]; !ok {
		t.Errorf("report lacks rows_failed: %s", b)
	}
}
