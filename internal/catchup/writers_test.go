package catchup

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWritersShareByTurnAndCapTheWrites: pages queued at once are written a
// row of each in turn, never more than max writes run at once, every row is
// written once, and no writer outlives the work. The turn is checked with one
// writer: with several, a write recorded by the writer that made it may be
// recorded after writes taken later (a writer descheduled between taking a
// row and recording it), so their record is not the order of the turn.
func TestWritersShareByTurnAndCapTheWrites(t *testing.T) {
	if most, _ := writePages(t, 3); most > 3 {
		t.Errorf("%d writes at once, want at most 3", most)
	}
	_, order := writePages(t, 1)
	// While all four pages had rows left (the first 4 x 49 writes), no page
	// got a second write ahead of another's: each window of 4 holds every page.
	for start := 8; start+4 <= 4*45; start += 4 {
		seen := map[int]bool{}
		for _, p := range order[start : start+4] {
			seen[p] = true
		}
		if len(seen) < 3 {
			t.Fatalf("writes %d..%d went to pages %v: not in turn", start, start+3, order[start:start+4])
		}
	}
}

// writePages writes four pages of 50 rows, queued at once, on writers of at
// most max, and returns the most writes seen at once and the page of each
// write in the order they were recorded; it checks every row is written
// once and no writer is left.
func writePages(t *testing.T, max int) (int32, []int) {
	t.Helper()
	w := &writers{max: max}
	var inFlight, most atomic.Int32
	var mu sync.Mutex
	var order []int // page of each write, in the order writes were recorded
	counts := make([]map[int]int, 4)
	gate := make(chan struct{})
	var pages sync.WaitGroup
	for p := range 4 {
		counts[p] = map[int]int{}
		rows := make([]int, 50)
		for i := range rows {
			rows[i] = i
		}
		pages.Add(1)
		go func() {
			defer pages.Done()
			w.do(rows, func(i int) {
				n := inFlight.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-gate
				mu.Lock()
				order = append(order, p)
				counts[p][i]++
				mu.Unlock()
				inFlight.Add(-1)
			})
		}()
	}
	// Let every page queue before any write ends.
	for deadline := time.Now().Add(5 * time.Second); ; {
		w.mu.Lock()
		queued := len(w.pages)
		w.mu.Unlock()
		if queued == 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(gate)
	pages.Wait()

	for p, c := range counts {
		for i := range 50 {
			if c[i] != 1 {
				t.Fatalf("page %d row %d written %d times", p, i, c[i])
			}
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running != 0 || len(w.pages) != 0 {
		t.Errorf("after the work: %d writers running, %d pages queued", w.running, len(w.pages))
	}
	return most.Load(), order
}
