package catchup

import (
	"context"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/row"
)

// wire is one fake peer on loopback behind the real client, over the map
// store with every watermark write audited.
type wire struct {
	srv    *peertest.Server
	peer   peers.Peer
	client *peers.Client
	mem    *memStore // the store, unless useStore replaced it
	truth  truth
	audit  *auditStore
	hide   func(peertest.Row) bool // the scope filter, nil = every row visible
	strict bool                    // the peer sends scope_status: v0.7 id rules
	limit  int
}

// wireClient is a client with short timeouts and backoffs, a 256 KiB body
// cap and 3 attempts per request.
func wireClient(timeout time.Duration) *peers.Client {
	return peers.NewClient(peers.Config{
		LocalID: "agent-test", Timeout: timeout, MaxBody: 256 << 10,
		MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	})
}

func newWire(t *testing.T, hide func(peertest.Row) bool, opts ...peertest.Option) *wire {
	t.Helper()
	if hide != nil {
		opts = append(opts, peertest.WithScope(peertest.HideIf(hide)))
	}
	srv, ts := peertest.NewHTTPTest(t, opts...)
	w := &wire{srv: srv, peer: peers.Peer{ID: "a", URL: ts.URL}, client: wireClient(500 * time.Millisecond),
		mem: newMemStore(), hide: hide, strict: true, limit: 10}
	w.useStore(w.mem, memTruth{w.mem})
	return w
}

// useStore puts st, judged by tr, under the audit in place of the map store.
func (w *wire) useStore(st Store, tr truth) {
	w.truth = tr
	w.audit = newAuditStore(st, tr, w.served, func() time.Time { return testNow }, 5*time.Minute)
}

// served decodes what the peer serves to us now, as the client would.
func (w *wire) served(string) []row.Row {
	return decodeServed(w.srv, w.hide, w.strict)
}

func decodeServed(srv *peertest.Server, hide func(peertest.Row) bool, strict bool) []row.Row {
	var out []row.Row
	for _, r := range srv.Rows() {
		if hide == nil || !hide(r) {
			out = append(out, row.DecodeRow(r.Raw, strict))
		}
	}
	return out
}

// run is one pass of the peer on a fresh Runner.
func (w *wire) run(ctx context.Context, st Store) PeerReport {
	if st == nil {
		st = w.audit
	}
	r := New(w.client, st, Options{PageLimit: w.limit, Now: func() time.Time { return testNow }})
	return r.Run(ctx, Pass{Peers: []peers.Peer{w.peer}}).Peers[0]
}

// converge clears the faults, runs passes until the peer is caught up, and
// checks that nothing was lost: every valid row's version (or a newer one)
// in the table, every invalid row in quarantine, no audit violation.
func (w *wire) converge(t *testing.T) {
	t.Helper()
	w.srv.SetFaultFunc(nil)
	for n := 1; ; n++ {
		rep := w.run(context.Background(), nil)
		if rep.Status == StatusCaughtUp {
			break
		}
		if n == 6 {
			t.Fatalf("not caught up after %d clean passes: %+v", n, rep)
		}
	}
	w.checkNothingLost(t)
}

func (w *wire) checkNothingLost(t *testing.T) {
	t.Helper()
	for _, v := range w.audit.Violations() {
		t.Error(v)
	}
	for _, r := range w.served("") {
		ok, err := w.truth.done(context.Background(), w.peer.ID, r)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Errorf("row %q at %q lost (invalid: %v)", r.ID, r.UpdatedAt, r.Invalid)
		}
	}
}

// mark is the stored watermark.
func (w *wire) mark() string {
	m, err := w.truth.mark(context.Background(), w.peer.ID)
	if err != nil {
		return "error: " + err.Error()
	}
	return m.Value
}
