package catchup

// Peer faults, each through the real client and a fake peer on loopback
// (and, for connections reset mid-body, through toxiproxy): the faulted pass
// must leave the watermark where nothing is lost, and once the fault is gone
// the peer must converge with nothing lost.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/faultproxy"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
)

// faultOn returns a FaultFunc applying f to the requests numbered in ns.
func faultOn(f peertest.Fault, ns ...int) peertest.FaultFunc {
	return func(_ *http.Request, n int) peertest.Fault {
		for _, x := range ns {
			if x == n {
				return f
			}
		}
		return peertest.Fault{}
	}
}

// when is f when cond holds, else no fault.
func when(cond bool, f peertest.Fault) peertest.Fault {
	if cond {
		return f
	}
	return peertest.Fault{}
}

// always returns a FaultFunc applying f to every request.
func always(f peertest.Fault) peertest.FaultFunc {
	return func(*http.Request, int) peertest.Fault { return f }
}

// failedMidDrain expects a pass that stopped with class after committing
// at least one page, the stored watermark being the report's.
func failedMidDrain(class string) func(*testing.T, *wire, PeerReport, time.Duration) {
	return func(t *testing.T, w *wire, rep PeerReport, _ time.Duration) {
		t.Helper()
		if rep.Status != StatusFailed || rep.ErrorClass != class {
			t.Errorf("status %s/%s (%s), want failed/%s", rep.Status, rep.ErrorClass, rep.Error, class)
		}
		if rep.Watermark == "" || rep.Watermark != w.mark() {
			t.Errorf("watermark: report %q, stored %q; want the last committed page's", rep.Watermark, w.mark())
		}
	}
}

func caughtUpFirst(t *testing.T, _ *wire, rep PeerReport, _ time.Duration) {
	t.Helper()
	if rep.Status != StatusCaughtUp || rep.Failed != 0 {
		t.Errorf("report %+v, want caught up in the faulted pass", rep)
	}
}

func backlog60(w *wire) { w.srv.Load(peertest.Backlog(60, 1, 4, true)) }

func TestPeerFaultsLoseNothing(t *testing.T) {
	cases := []struct {
		name  string
		hide  func(peertest.Row) bool
		setup func(*wire)
		check func(*testing.T, *wire, PeerReport, time.Duration)
	}{
		{"429 with Retry-After is waited for", nil, func(w *wire) {
			backlog60(w)
			w.srv.QueueFaults(peertest.RateLimited("1"))
		}, func(t *testing.T, w *wire, rep PeerReport, took time.Duration) {
			caughtUpFirst(t, w, rep, took)
			if took < time.Second {
				t.Errorf("pass took %v; Retry-After: 1 was not honored", took)
			}
		}},
		{"500 502 503 then an answer within the attempts", nil, func(w *wire) {
			backlog60(w)
			w.srv.QueueFaults(peertest.Status(500), peertest.Status(502))
			w.srv.SetFaultFunc(faultOn(peertest.Status(503), 4))
		}, caughtUpFirst},
		{"5xx past the attempts mid-drain", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(func(_ *http.Request, n int) peertest.Fault {
				return when(n >= 3, peertest.Status([]int{500, 502, 503}[n%3]))
			})
		}, failedMidDrain(ClassUnreachable)},
		{"slow answers within the timeout", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(always(peertest.Slow(30 * time.Millisecond)))
		}, caughtUpFirst},
		{"answers slower than the timeout mid-drain", nil, func(w *wire) {
			backlog60(w)
			w.client = wireClient(100 * time.Millisecond)
			w.srv.SetFaultFunc(func(_ *http.Request, n int) peertest.Fault {
				return when(n >= 3, peertest.Slow(2*time.Second))
			})
		}, failedMidDrain(ClassUnreachable)},
		{"truncated JSON retried", nil, func(w *wire) {
			backlog60(w)
			w.srv.QueueFaults(peertest.Fault{}, peertest.Truncated(), peertest.Truncated())
		}, caughtUpFirst},
		{"truncated JSON on every attempt", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(func(_ *http.Request, n int) peertest.Fault { return when(n >= 3, peertest.Truncated()) })
		}, failedMidDrain(ClassUnreachable)},
		// A page over the body cap is asked again smaller (§4 rule 4)...
		{"body over the cap once", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(faultOn(peertest.Oversized(300<<10), 3))
		}, caughtUpFirst},
		// ...and fails the peer only when not even one row fits.
		{"body over the cap at every size", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(func(_ *http.Request, n int) peertest.Fault { return when(n >= 3, peertest.Oversized(300<<10)) })
		}, failedMidDrain(ClassBadResponse)},
		{"not JSON", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(faultOn(peertest.NotJSON(), 3))
		}, failedMidDrain(ClassBadResponse)},
		{"no memories key", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(faultOn(peertest.DropField("memories"), 3))
		}, failedMidDrain(ClassBadResponse)},
		{"envelope of the wrong types", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(faultOn(peertest.WrongTypes(), 3))
		}, failedMidDrain(ClassBadResponse)},
		{"wrong types inside rows are quarantined", nil, func(w *wire) {
			backlog60(w)
			for i, bad := range []string{`"priority":"high"`, `"tags":"x"`, `"confidence":[1]`, `"metadata":"{}"`, `"updated_at":12345`, `"id":7`} {
				row := peertest.Memory(fmt.Sprintf("wt-%d", i), "2026-06-01T10:00:03.000Z")
				w.srv.PutRaw(withField(row, bad))
			}
		}, func(t *testing.T, w *wire, rep PeerReport, took time.Duration) {
			caughtUpFirst(t, w, rep, took)
			if rep.Invalid != 6 || len(w.mem.quarantine) != 6 {
				t.Errorf("invalid %d, quarantined %d; want 6", rep.Invalid, len(w.mem.quarantine))
			}
		}},
		{"duplicate rows within a page", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(always(peertest.DuplicateRows()))
		}, caughtUpFirst},
		{"rows out of order", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(always(peertest.ReverseRows()))
		}, caughtUpFirst},
		{"a row dated year 9999", nil, func(w *wire) {
			backlog60(w)
			w.srv.Put(peertest.Memory("future", "9999-12-31T23:59:59.000Z"))
		}, func(t *testing.T, w *wire, rep PeerReport, took time.Duration) {
			caughtUpFirst(t, w, rep, took)
			if _, ok := w.mem.items["future"]; !ok || strings.HasPrefix(w.mark(), "9999") {
				t.Errorf("future row written: %v; watermark %q must stay below it", ok, w.mark())
			}
		}},
		{"a row whose updated_at the peer cannot parse", nil, func(w *wire) {
			backlog60(w)
			w.srv.Put(peertest.Memory("bad-month", "2026-13-01T00:00:00Z"))
			// A tie group after it: a full page ending in the group can
			// advance the cursor only up to the bad row.
			for i := range 15 {
				w.srv.Put(peertest.Memory(fmt.Sprintf("future-%d", i), "2999-01-01T00:00:00.000Z"))
			}
		}, func(t *testing.T, w *wire, rep PeerReport, took time.Duration) {
			caughtUpFirst(t, w, rep, took)
			if _, ok := w.mem.items["future-14"]; !ok || rep.Invalid != 1 {
				t.Errorf("future row written: %v, invalid %d; want the row past the bad one pulled", ok, rep.Invalid)
			}
			for _, r := range w.srv.Requests() {
				if strings.Contains(r.Since, "-13-") {
					t.Errorf("request %d sent since=%q, which the peer answers with 400", r.N, r.Since)
				}
			}
		}},
		{"next_since in year 9999", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(always(peertest.SetField("next_since", "9999-12-31T23:59:59Z")))
		}, func(t *testing.T, w *wire, rep PeerReport, took time.Duration) {
			caughtUpFirst(t, w, rep, took)
			if strings.HasPrefix(w.mark(), "9999") {
				t.Errorf("watermark %q taken from next_since", w.mark())
			}
		}},
		{"pages whose rows are all filtered out", func(r peertest.Row) bool { return r.ID < "bl-00040" }, backlog60,
			func(t *testing.T, w *wire, rep PeerReport, took time.Duration) {
				caughtUpFirst(t, w, rep, took)
				if rep.Applied != 20 || w.mark() != lastStamp(w) {
					t.Errorf("applied %d, watermark %q; want 20 and %q", rep.Applied, w.mark(), lastStamp(w))
				}
			}},
		{"a full page that is one tie group", nil, func(w *wire) {
			w.srv.Load(peertest.Backlog(35, 2, 25, false))
		}, func(t *testing.T, w *wire, rep PeerReport, took time.Duration) {
			caughtUpFirst(t, w, rep, took)
			if rep.Applied != 35 {
				t.Errorf("applied %d of 35", rep.Applied)
			}
		}},
		{"data changing between pages", nil, func(w *wire) {
			backlog60(w)
			w.srv.SetFaultFunc(func(_ *http.Request, n int) peertest.Fault {
				if n == 3 {
					w.srv.Put(peertest.Memory("bl-00001", "2026-06-02T00:00:00.000Z")) // newer version of a pulled row
					w.srv.Put(peertest.Memory("late-1", "2026-06-02T00:00:01Z"))
					w.srv.Delete("bl-00050")
				}
				return peertest.Fault{}
			})
		}, caughtUpFirst},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWire(t, c.hide)
			c.setup(w)
			start := time.Now()
			rep := w.run(context.Background(), nil)
			c.check(t, w, rep, time.Since(start))
			w.converge(t)
		})
	}
}

// withField adds or replaces one member of a row, given as `"key":value`.
func withField(row map[string]any, member string) []byte {
	key := member[1 : strings.Index(member[1:], `"`)+1]
	delete(row, key)
	raw, _ := json.Marshal(row)
	return append(append(raw[:len(raw)-1], ',', ' '), append([]byte(member), '}')...)
}

// lastStamp is the byte-wise largest updated_at the peer holds.
func lastStamp(w *wire) string {
	last := ""
	for _, r := range w.srv.Rows() {
		last = max(last, r.UpdatedAt)
	}
	return last
}

// TestConnectionsResetMidBody runs passes through toxiproxy: connections
// cut mid-body are retried on fresh ones and the pass completes; a peer
// whose every connection is reset fails without moving its watermark; once
// the network heals, nothing was lost.
func TestConnectionsResetMidBody(t *testing.T) {
	w := newWire(t, nil)
	w.srv.Load(peertest.Backlog(300, 3, 5, true))
	w.limit = 50 // about 40 KB a page
	x := faultproxy.StartToxiproxy(t)
	listen := x.Proxy(t, "peer", strings.TrimPrefix(w.peer.URL, "http://"))
	w.peer = peers.Peer{ID: w.peer.ID, URL: "http://" + listen}

	// Each connection dies after 100 KB: the third page on a kept-alive
	// connection is cut mid-body, and its retry opens a fresh connection.
	x.AddToxic(t, "peer", faultproxy.Toxic{Name: "cut", Type: "limit_data", Stream: "downstream", Attributes: map[string]any{"bytes": 100_000}})
	rep := w.run(context.Background(), nil)
	if rep.Status != StatusCaughtUp || rep.Applied != 300 {
		t.Fatalf("through limit_data: %+v, want all 300 rows in one pass", rep)
	}
	if n := len(w.srv.Requests()); n <= rep.Pages {
		t.Errorf("%d requests for %d pages: no connection was cut", n, rep.Pages)
	}
	x.RemoveToxic(t, "peer", "cut")

	w.srv.Load(peertest.Backlog(400, 3, 5, true)) // 100 more rows
	w.srv.ClearRequests()
	x.AddToxic(t, "peer", faultproxy.Toxic{Name: "rst", Type: "reset_peer", Stream: "downstream", Attributes: map[string]any{"timeout": 0}})
	before := w.mark()
	rep = w.run(context.Background(), nil)
	if rep.Status != StatusFailed || rep.ErrorClass != ClassUnreachable || w.mark() != before {
		t.Errorf("every connection reset: %+v, watermark %q -> %q; want failed/unreachable and unchanged", rep, before, w.mark())
	}
	x.RemoveToxic(t, "peer", "rst")
	w.converge(t)
	if len(w.mem.items) != 400 {
		t.Errorf("%d rows in the table, want 400", len(w.mem.items))
	}
}
