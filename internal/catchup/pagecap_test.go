package catchup

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
)

const tieAt = "2026-06-01T10:00:00Z"

// tieRows are `before` rows at distinct instants before tieAt, n rows at
// tieAt and `after` rows at distinct instants after it.
func tieRows(before, n, after int) []map[string]any {
	var rows []map[string]any
	for i := range before {
		rows = append(rows, peertest.Memory(fmt.Sprintf("pre-%04d", i), fmt.Sprintf("2026-06-01T09:%02d:%02dZ", i/60, i%60)))
	}
	for i := range n {
		rows = append(rows, peertest.Memory(fmt.Sprintf("tie-%04d", i), tieAt))
	}
	for i := range after {
		rows = append(rows, peertest.Memory(fmt.Sprintf("post-%04d", i), fmt.Sprintf("2026-06-01T11:%02d:%02dZ", i/60, i%60)))
	}
	return rows
}

// capWire is a v1-like peer capping pages at 1000, behind a client whose
// body cap is maxBody, asked 500 rows a page.
func capWire(t *testing.T, rows []map[string]any, maxBody int64) *wire {
	t.Helper()
	w := newWire(t, nil, peertest.WithPageCap(1000))
	w.srv.Load(rows)
	w.client = peers.NewClient(peers.Config{LocalID: "agent-test", Timeout: 2 * time.Second, MaxBody: maxBody,
		MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	w.limit = 500
	return w
}

// runBudget is one pass with a short budget, so that a peer asked the same
// page again and again ends the pass as `more` rather than hanging the test.
func (w *wire) runBudget(t *testing.T) PeerReport {
	t.Helper()
	r := New(w.client, w.audit, Options{PageLimit: w.limit, Budget: 3 * time.Second, Now: func() time.Time { return testNow }})
	return r.Run(context.Background(), Pass{Peers: []peers.Peer{w.peer}}).Peers[0]
}

// A tie group larger than the server's cap is stalled at once (§4 rule 4):
// within 8 requests, naming the cap and the peer-side setting, with the
// watermark below the group; the next run does the same, not more.
func TestTieGroupOverCapStalls(t *testing.T) {
	w := capWire(t, tieRows(5, 1200, 3), 8<<20)
	for run := 1; run <= 2; run++ {
		w.srv.ClearRequests()
		rep := w.runBudget(t)
		if rep.Status != StatusStalled {
			t.Fatalf("run %d: status %s (%s), want stalled", run, rep.Status, rep.Error)
		}
		for _, part := range []string{"1000", "AI_MEMORY_MAX_PAGE_SIZE"} {
			if !strings.Contains(rep.Error, part) {
				t.Errorf("run %d: error %q does not name %q", run, rep.Error, part)
			}
		}
		if n := len(w.srv.Requests()); n > 8 {
			t.Errorf("run %d: %d requests, want at most 8", run, n)
		}
		if m := w.mark(); m == "" || m >= tieAt {
			t.Errorf("run %d: watermark %q, want below the tie group at %s", run, m, tieAt)
		}
	}
}

// bodyOf is the size of the page the peer serves for limit from the start.
func bodyOf(t *testing.T, w *wire, limit int) int64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s%s?limit=%d", w.peer.URL, peertest.Path, limit))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A 600-row tie group whose widened 1000-row page is over the body cap is
// caught up by a page size between the one that fit and the one that did
// not (§4 rule 4), in one run, without failing the peer.
func TestWidenedPageOverBodyCapBisects(t *testing.T) {
	rows := tieRows(0, 600, 300)
	probe := capWire(t, rows, 8<<20)
	small, large := bodyOf(t, probe, 700), bodyOf(t, probe, 1000)
	w := capWire(t, rows, (small+large)/2)
	rep := w.runBudget(t)
	if rep.Status != StatusCaughtUp || rep.Applied != 900 {
		t.Fatalf("status %s (%s), applied %d; want caught_up with 900", rep.Status, rep.Error, rep.Applied)
	}
	if n := len(w.srv.Requests()); n > 12 {
		t.Errorf("%d requests, want at most 12", n)
	}
	w.converge(t)
}

// A tie group that needs a page the body cap cannot hold is stalled, naming
// MAX_RESPONSE_BYTES, after a bounded number of requests.
func TestTieGroupOverBodyCapStalls(t *testing.T) {
	rows := tieRows(0, 800, 10)
	probe := capWire(t, rows, 8<<20)
	w := capWire(t, rows, bodyOf(t, probe, 700))
	rep := w.runBudget(t)
	if rep.Status != StatusStalled || !strings.Contains(rep.Error, "MAX_RESPONSE_BYTES") {
		t.Fatalf("status %s (%s), want stalled naming MAX_RESPONSE_BYTES", rep.Status, rep.Error)
	}
	if n := len(w.srv.Requests()); n > 16 {
		t.Errorf("%d requests, want at most 16", n)
	}
	if m := w.mark(); m >= tieAt {
		t.Errorf("watermark %q, want below the tie group at %s", m, tieAt)
	}
}
