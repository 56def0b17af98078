package catchup

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/row"
)

// sortedPeer serves a fixed, sorted feed cheaply (for scale runs).
type sortedPeer struct{ rows []row.Row }

func (s *sortedPeer) Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error) {
	i := sort.Search(len(s.rows), func(i int) bool { return s.rows[i].UpdatedAt > since })
	j := min(len(s.rows), i+limit)
	page := &peers.Page{Limit: limit, Rows: s.rows[i:j], Count: j - i}
	return page, nil
}

// TestReconcileScale measures the walk's own cost (no DynamoDB: an in-memory
// table) and the memory a reconcile holds per tracked id. RECONCILE_SCALE=N
// runs it with N rows; BENCHMARKS.md, "Reconcile", records the figures.
func TestReconcileScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RECONCILE_SCALE"))
	if n <= 0 {
		t.Skip("RECONCILE_SCALE unset")
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &sortedPeer{}
	st := newVerStore()
	for i := range n {
		at := base.Add(time.Duration(i) * time.Millisecond)
		row := row.Row{ID: fmt.Sprintf("%08x-1111-4222-8333-%012d", i, i), UpdatedAt: at.Format("2006-01-02T15:04:05.000000000Z"), Instant: at}
		row.Fields = map[string]any{"id": row.ID, "updated_at": row.UpdatedAt, "content": "x"}
		src.rows = append(src.rows, row)
		if err := st.PutMemory(context.Background(), replica.FromRow("a", row)); err != nil {
			t.Fatal(err)
		}
	}
	// Memory per tracked id: the map the reconcile builds from the scan.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rs := &recState{table: st, ids: map[string]seen{}, maxRows: n}
	st.ScanVersions(context.Background(), 1, func(v replica.Version) {
		rs.ids[strings.Clone(v.ID)] = compact(v) // a scan decodes fresh strings
	})
	runtime.GC()
	runtime.ReadMemStats(&after)
	perID := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	runtime.KeepAlive(rs)
	rs = nil
	r := New(src, st, Options{PageLimit: 1000, Budget: time.Hour})
	start := time.Now()
	rep := r.Reconcile(context.Background(), st, Reconcile{Peers: peerList("a")}, ReconcileOptions{})
	el := time.Since(start)
	if rep.Peers[0].Status != StatusCaughtUp || rep.Repaired != 0 || rep.LiveRows != n || rep.DeletionCandidates != 0 {
		t.Fatalf("report %+v", rep)
	}
	t.Logf("rows %d: %.0f bytes per tracked id (ids of 36 bytes); walk of the whole feed against an in-memory table: %v, %.0f rows/s",
		n, perID, el.Round(time.Millisecond), float64(n)/el.Seconds())
}
