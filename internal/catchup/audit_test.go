package catchup

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/row"
	"github.com/aimemory/catchup/internal/stamp"
	"github.com/aimemory/catchup/internal/watermark"
)

// truth reads a store directly, past any fault layer, to judge what is
// durably done.
type truth interface {
	// done reports whether the store holds r's version of r.ID or a newer
	// one, or has quarantined r for peer.
	done(ctx context.Context, peer string, r row.Row) (bool, error)
	// mark is the stored watermark of peer.
	mark(ctx context.Context, peer string) (watermark.Mark, error)
}

// auditStore checks every watermark write against the rows the peer serves:
// the runner never asks to move backward, and a stored watermark never moves
// backward within an epoch, never beyond now + skew, and never past a row
// that is not done. It checks what the store holds after the call, so an
// advance whose answer was lost is checked too.
type auditStore struct {
	Store
	truth truth
	rows  func(peer string) []row.Row // what peer serves now, to us
	now   func() time.Time
	skew  time.Duration

	mu         sync.Mutex // one advance and its check at a time
	last       map[string]watermark.Mark
	advances   int
	violations []string
}

func newAuditStore(inner Store, tr truth, rows func(string) []row.Row, now func() time.Time, skew time.Duration) *auditStore {
	return &auditStore{Store: inner, truth: tr, rows: rows, now: now, skew: skew, last: map[string]watermark.Mark{}}
}

func (a *auditStore) violate(format string, args ...any) {
	a.violations = append(a.violations, fmt.Sprintf(format, args...))
}

// Violations returns what the audit found, if anything.
func (a *auditStore) Violations() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.violations...)
}

func (a *auditStore) AdvanceWatermark(ctx context.Context, peer string, from watermark.Mark, to string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if to <= from.Value {
		a.violate("%s: asked to move the watermark from %q back to %q", peer, from.Value, to)
	}
	check := context.WithoutCancel(ctx)
	before, rerr := a.truth.mark(check, peer)
	err := a.Store.AdvanceWatermark(ctx, peer, from, to)
	after, aerr := a.truth.mark(check, peer)
	if rerr != nil || aerr != nil {
		a.violate("%s: audit could not read the watermark: %v %v", peer, rerr, aerr)
		return err
	}
	if err == nil && after.Value != to {
		a.violate("%s: the store acknowledged %q but holds %q", peer, to, after.Value)
	}
	if after != before {
		a.advances++
		a.checkMove(check, peer, before, after)
	}
	return err
}

// checkMove judges one change of the stored watermark from before to after.
func (a *auditStore) checkMove(ctx context.Context, peer string, before, after watermark.Mark) {
	if last, ok := a.last[peer]; ok && last.Epoch == after.Epoch && after.Value < last.Value {
		a.violate("%s: watermark moved backward from %q to %q", peer, last.Value, after.Value)
	}
	a.last[peer] = after
	if after.Epoch != before.Epoch {
		a.violate("%s: a pass changed the epoch %d to %d", peer, before.Epoch, after.Epoch)
		return
	}
	if after.Value <= before.Value {
		a.violate("%s: watermark moved backward from %q to %q", peer, before.Value, after.Value)
		return
	}
	if t, err := stamp.Parse(after.Value); err != nil || t.After(a.now().Add(a.skew)) {
		a.violate("%s: watermark %q does not parse or is beyond now + skew", peer, after.Value)
	}
	for _, r := range a.rows(peer) {
		if r.UpdatedAt <= before.Value || r.UpdatedAt > after.Value {
			continue
		}
		ok, err := a.truth.done(ctx, peer, r)
		switch {
		case err != nil:
			a.violate("%s: audit could not read row %s: %v", peer, r.ID, err)
		case !ok:
			a.violate("%s: watermark %q passed row %s at %q, which is not done", peer, after.Value, r.ID, r.UpdatedAt)
		}
	}
}

// noteReset tells the audit about an operator's reset, the one legitimate
// way back.
func (a *auditStore) noteReset(peer string, m watermark.Mark) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last[peer] = m
}

// faultCounts counts injected faults by kind; safe for concurrent use.
type faultCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *faultCounts) add(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[kind]++
}

func (c *faultCounts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// crash kills a run after k durable writes: from then on every store call
// and every fetch fails and the run's context is cancelled, as when the
// process dies. Nothing after the k-th write becomes durable.
type crash struct {
	mu      sync.Mutex
	k       int // < 0: never
	writes  int
	crashed bool
	cancel  context.CancelFunc
	counts  *faultCounts
}

var errCrashed = fmt.Errorf("%w: process killed", peers.ErrUnavailable)

func (c *crash) dead() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed
}

// wrote counts a durable write and crashes at the k-th.
func (c *crash) wrote() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if c.k >= 0 && c.writes >= c.k && !c.crashed {
		c.crashed = true
		c.counts.add("crash")
		c.cancel()
	}
}

// crashStore fails every call once its crash has happened.
type crashStore struct {
	Store
	c *crash
}

func (s crashStore) PutMemory(ctx context.Context, m replica.Memory) error {
	if s.c.dead() {
		return errCrashed
	}
	err := s.Store.PutMemory(ctx, m)
	if err == nil {
		s.c.wrote()
	}
	return err
}

func (s crashStore) Quarantine(ctx context.Context, q replica.Quarantined) error {
	if s.c.dead() {
		return errCrashed
	}
	err := s.Store.Quarantine(ctx, q)
	if err == nil {
		s.c.wrote()
	}
	return err
}

func (s crashStore) Watermark(ctx context.Context, peer string) (watermark.Mark, error) {
	if s.c.dead() {
		return watermark.Mark{}, errCrashed
	}
	return s.Store.Watermark(ctx, peer)
}

func (s crashStore) AdvanceWatermark(ctx context.Context, peer string, from watermark.Mark, to string) error {
	if s.c.dead() {
		return errCrashed
	}
	err := s.Store.AdvanceWatermark(ctx, peer, from, to)
	if err == nil {
		s.c.wrote()
	}
	return err
}

// crashSource fails every fetch once its crash has happened.
type crashSource struct {
	Source
	c *crash
}

func (s crashSource) Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error) {
	if s.c.dead() {
		return nil, errCrashed
	}
	return s.Source.Fetch(ctx, p, since, limit)
}
