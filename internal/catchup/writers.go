package catchup

import (
	"slices"
	"sync"
)

// writers are a Runner's write goroutines, at most WriteConcurrency of them
// across every page of every run. A page queues its rows; each writer takes
// the next row of the next page in turn, so that the peers being drained
// share the writes row by row, and no more goroutines wait to write than
// can write. (A page's own workers, WriteConcurrency of them for each of
// PEER_CONCURRENCY pages, mostly waited for a write slot: a goroutine
// switch a row.) Writers start as pages come and end when no page has a
// row left to take.
type writers struct {
	max     int
	mu      sync.Mutex
	pages   []*pageWrites // pages with rows not yet taken, in turn
	turn    int           // the index in pages whose row goes next
	running int
}

// pageWrites is one page's rows in the queue.
type pageWrites struct {
	rows  []int // indexes of the page's rows to write, in order
	taken int
	write func(i int)
	left  sync.WaitGroup // rows taken or not, not yet written
}

// do calls write for each of rows, on the writers, and returns once every
// call has returned.
func (w *writers) do(rows []int, write func(i int)) {
	if len(rows) == 0 {
		return
	}
	p := &pageWrites{rows: rows, write: write}
	p.left.Add(len(rows))
	w.mu.Lock()
	w.pages = append(w.pages, p)
	start := min(w.max-w.running, len(rows))
	w.running += start
	w.mu.Unlock()
	for range start {
		go w.run()
	}
	p.left.Wait()
}

func (w *writers) run() {
	for {
		p, i, ok := w.take()
		if !ok {
			return
		}
		p.write(i)
		p.left.Done()
	}
}

// take returns the next row to write, or false when there is none: the
// writer then ends (counted out under the lock, so that a page queued
// after it starts writers of its own when none is left).
func (w *writers) take() (*pageWrites, int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pages) == 0 {
		w.running--
		return nil, 0, false
	}
	if w.turn >= len(w.pages) {
		w.turn = 0
	}
	p := w.pages[w.turn]
	i := p.rows[p.taken]
	p.taken++
	if p.taken == len(p.rows) {
		w.pages = slices.Delete(w.pages, w.turn, w.turn+1) // the next page moves into turn
	} else {
		w.turn++
	}
	return p, i, true
}
