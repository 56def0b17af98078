package catchup

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/stamp"
	"github.com/aimemory/catchup/internal/watermark"
)

// dice draws faults for one seed. rate scales every probability; 0 turns
// faults off.
type dice struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	counts *faultCounts
}

func newDice(seed uint64) *dice {
	return &dice{rng: rand.New(rand.NewPCG(seed, 0x64696365)), counts: &faultCounts{}}
}

func (d *dice) setRate(r float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rate = r
}

// roll reports whether a fault of kind happens, with probability p·rate.
func (d *dice) roll(kind string, p float64) bool {
	d.mu.Lock()
	hit := d.rate > 0 && d.rng.Float64() < p*d.rate
	d.mu.Unlock()
	if hit {
		d.counts.add(kind)
	}
	return hit
}

func (d *dice) intn(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.IntN(n)
}

var errInjected = errors.New("injected store fault")

// faultyStore fails store calls as DynamoDB does: refused before the write,
// or applied with the answer lost. A call on a context that has ended fails
// without effect, and ids the mesh marks huge are refused for good.
type faultyStore struct {
	Store
	d *dice
	m *mesh
}

func (s faultyStore) before(ctx context.Context, kind string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if s.d.roll(kind+"_error", 0.05) {
		return fmt.Errorf("%s: %w", kind, errInjected)
	}
	return nil
}

// after turns a successful call into an error whose write happened.
func (s faultyStore) after(kind string, err error) error {
	if err == nil && s.d.roll(kind+"_lost_ack", 0.03) {
		return fmt.Errorf("%s: connection reset after the write: %w", kind, errInjected)
	}
	return err
}

func (s faultyStore) PutMemory(ctx context.Context, m replica.Memory) error {
	if err := s.before(ctx, "put"); err != nil {
		return err
	}
	if s.m.isHuge(m.ID) {
		return fmt.Errorf("put %s: %w: item of 500000 bytes", m.ID, replica.ErrUnwritable)
	}
	return s.after("put", s.Store.PutMemory(ctx, m))
}

func (s faultyStore) Quarantine(ctx context.Context, q replica.Quarantined) error {
	if err := s.before(ctx, "quarantine"); err != nil {
		return err
	}
	return s.after("quarantine", s.Store.Quarantine(ctx, q))
}

func (s faultyStore) Watermark(ctx context.Context, peer string) (watermark.Mark, error) {
	if err := s.before(ctx, "read_watermark"); err != nil {
		return watermark.Mark{}, err
	}
	return s.Store.Watermark(ctx, peer)
}

func (s faultyStore) AdvanceWatermark(ctx context.Context, peer string, from watermark.Mark, to string) error {
	if err := s.before(ctx, "advance"); err != nil {
		return err
	}
	return s.after("advance", s.Store.AdvanceWatermark(ctx, peer, from, to))
}

func (m *mesh) isHuge(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.huge[id]
}

// faultySource serves the mesh with the peer-side faults of issue 4 that
// reach the pass as a page or an error: unavailable, rejected and bad
// responses; data changing between two pages; duplicate, shuffled and
// replayed old rows; and next_since values the rules must refuse.
type faultySource struct {
	m *mesh
	d *dice
}

// nextSinceLies are next_since values no run may store or jump to: in the
// far future, an hour ahead, not a timestamp, and before any row.
var nextSinceLies = []string{"9999-12-31T23:59:59Z", "2026-11-27T13:00:00Z", "yesterday", "2000-01-01T00:00:00Z"}

func (s faultySource) Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error) {
	if since != "" && !stamp.Valid(since) { // the peer parses since (docs/protocol.md §2), faults or not
		return nil, fmt.Errorf("400 Bad Request: invalid since %q: %w", since, peers.ErrRejected)
	}
	switch {
	case s.d.roll("fetch_unavailable", 0.06):
		return nil, fmt.Errorf("503 Service Unavailable: %w", peers.ErrUnavailable)
	case s.d.roll("fetch_rejected", 0.02):
		return nil, fmt.Errorf("401 Unauthorized: %w", peers.ErrRejected)
	case s.d.roll("fetch_bad_response", 0.02):
		return nil, fmt.Errorf("body cut: not JSON: %w", peers.ErrBadResponse)
	}
	if s.d.roll("data_changed_between_pages", 0.05) {
		s.m.update()
	}
	page, err := s.m.peers.Fetch(ctx, p, since, limit)
	if err != nil {
		return nil, err
	}
	s.edit(page, p.ID, since)
	return page, nil
}

func (s faultySource) edit(page *peers.Page, peer, since string) {
	if s.d.roll("duplicate_rows", 0.05) {
		page.Rows = append(page.Rows, page.Rows...)
	}
	if s.d.roll("replayed_old_rows", 0.05) {
		old := s.m.rowsAtOrBelow(peer, since)
		page.Rows = append(page.Rows, old[:min(len(old), 3)]...)
	}
	if s.d.roll("rows_out_of_order", 0.1) {
		for i := len(page.Rows) - 1; i > 0; i-- {
			j := s.d.intn(i + 1)
			page.Rows[i], page.Rows[j] = page.Rows[j], page.Rows[i]
		}
	}
	if s.d.roll("next_since_lie", 0.1) {
		page.NextSince = nextSinceLies[s.d.intn(len(nextSinceLies))]
	}
	page.Count = len(page.Rows)
}
