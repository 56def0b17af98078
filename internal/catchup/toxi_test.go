package catchup

import (
	"context"
	"strings"
	"testing"

	"github.com/aimemory/catchup/internal/faultproxy"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
)

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
