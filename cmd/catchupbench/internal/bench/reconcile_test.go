package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/awstest"
	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/row"
)

// feed serves a fixed sorted feed from memory, so that the figure is the
// reconcile's and the table's, not a peer's.
type feed struct{ rows []row.Row }

func (f *feed) Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error) {
	i := sort.Search(len(f.rows), func(i int) bool { return f.rows[i].UpdatedAt > since })
	j := min(len(f.rows), i+limit)
	return &peers.Page{Limit: limit, Rows: f.rows[i:j], Count: j - i}, nil
}

// TestReconcileDynalite: RECONCILE_DYNALITE=N loads N rows into dynalite,
// then times a reconcile that finds the table in sync (a Scan plus the walk),
// and one that tombstones the 1% the peer deleted.
// DYNALITE_BIN names node_modules/.bin/dynalite.
func TestReconcileDynalite(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RECONCILE_DYNALITE"))
	bin := os.Getenv("DYNALITE_BIN")
	if n <= 0 || bin == "" {
		t.Skip("RECONCILE_DYNALITE or DYNALITE_BIN unset")
	}
	ctx := context.Background()
	d, err := StartDynalite(ctx, bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	store := ddbstore.New(awstest.DynamoDB(d.Endpoint, 8), "rec-memories", "rec-state", time.Now)
	if err := store.CreateTables(ctx); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := &feed{}
	for i := range n {
		at := base.Add(time.Duration(i) * time.Millisecond)
		row := row.Row{ID: fmt.Sprintf("%08x-1111-4222-8333-%012d", i, i), UpdatedAt: at.Format("2006-01-02T15:04:05.000000000Z"), Instant: at}
		row.Fields = map[string]any{"id": row.ID, "updated_at": row.UpdatedAt, "title": "t", "content": "some content of a memory"}
		src.rows = append(src.rows, row)
	}
	load := time.Now()
	var wg sync.WaitGroup
	work := make(chan row.Row)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for row := range work {
				if err := store.PutMemory(ctx, replica.FromRow("a", row)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for _, r := range src.rows {
		work <- r
	}
	close(work)
	wg.Wait()
	t.Logf("loaded %d rows in %v (%.0f puts/s)", n, time.Since(load).Round(time.Millisecond), float64(n)/time.Since(load).Seconds())
	r := catchup.New(src, store, catchup.Options{PageLimit: 1000, Budget: time.Hour})
	for _, phase := range []string{"in sync", "1% deleted on the peers"} {
		if phase != "in sync" {
			var kept []row.Row
			for i, row := range src.rows {
				if i%100 == 1 {
					continue // deleted on the peer
				}
				kept = append(kept, row)
			}
			src.rows = kept
		}
		runtime.GC()
		var ms runtime.MemStats
		start := time.Now()
		rep := r.Reconcile(ctx, store, catchup.Reconcile{Peers: []peers.Peer{{ID: "a", URL: "http://127.0.0.1:1"}}, MaxDeletions: n}, catchup.ReconcileOptions{})
		el := time.Since(start)
		runtime.ReadMemStats(&ms)
		t.Logf("%s: %d rows, %v, %.0f rows/s; repaired %d tombstoned %d withheld %q; heap in use after %d MB",
			phase, n, el.Round(time.Millisecond), float64(n)/el.Seconds(), rep.Repaired, rep.Tombstoned, rep.Withheld, ms.HeapInuse>>20)
		if want := map[bool]int{true: 0, false: n / 100}[phase == "in sync"]; rep.Error != "" || rep.Peers[0].Status != catchup.StatusCaughtUp || rep.Tombstoned != want {
			t.Fatalf("%+v", rep)
		}
	}
}
