package bench

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
)

// Overlap says how page fetches and row writes shared the wall clock: the
// evidence that the next page is pulled while the current one is written.
type Overlap struct {
	Fetches       int     `json:"fetches"`
	FetchBusyS    float64 `json:"fetch_busy_s"`   // wall time with at least one fetch in flight
	WriteBusyS    float64 `json:"write_busy_s"`   // wall time with at least one write in flight
	BothS         float64 `json:"both_s"`         // wall time with both in flight
	HiddenFetches float64 `json:"hidden_fetches"` // BothS / FetchBusyS: share of fetching hidden behind writes
}

// tracer records when fetches and writes start and end.
type tracer struct {
	mu     sync.Mutex
	start  time.Time
	events []event
}

type event struct {
	at    time.Duration
	fetch bool
	delta int
}

func newTracer() *tracer { return &tracer{start: time.Now()} }

func (t *tracer) mark(fetch bool, delta int) {
	at := time.Since(t.start)
	t.mu.Lock()
	t.events = append(t.events, event{at, fetch, delta})
	t.mu.Unlock()
}

// overlap sweeps the events in time order.
func (t *tracer) overlap() Overlap {
	t.mu.Lock()
	evs := slices.Clone(t.events)
	t.mu.Unlock()
	slices.SortStableFunc(evs, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	var o Overlap
	var nf, nw int
	var last time.Duration
	for _, e := range evs {
		span := (e.at - last).Seconds()
		if nf > 0 {
			o.FetchBusyS += span
		}
		if nw > 0 {
			o.WriteBusyS += span
		}
		if nf > 0 && nw > 0 {
			o.BothS += span
		}
		if e.fetch {
			nf += e.delta
			if e.delta > 0 {
				o.Fetches++
			}
		} else {
			nw += e.delta
		}
		last = e.at
	}
	if o.FetchBusyS > 0 {
		o.HiddenFetches = o.BothS / o.FetchBusyS
	}
	return o
}

// tracedSource times every Fetch.
type tracedSource struct {
	next catchup.Source
	t    *tracer
}

func (s tracedSource) Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error) {
	s.t.mark(true, 1)
	defer s.t.mark(true, -1)
	return s.next.Fetch(ctx, p, since, limit)
}

// tracedStore times every PutMemory.
type tracedStore struct {
	catchup.Store
	t *tracer
}

func (s tracedStore) PutMemory(ctx context.Context, m replica.Memory) error {
	s.t.mark(false, 1)
	defer s.t.mark(false, -1)
	return s.Store.PutMemory(ctx, m)
}
