package catchup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/row"
	"github.com/aimemory/catchup/internal/stamp"
	"github.com/aimemory/catchup/internal/watermark"
)

// fakePeer serves pages as an ai-memory node does: text comparison, no
// tie-breaker (equal timestamps shuffled), LIMIT before scope filtering.
type fakePeer struct {
	mu      sync.Mutex
	rows    map[string]row.Row // by id: the peer keeps one version per memory
	hidden  func(row.Row) bool // filtered after the LIMIT
	rnd     *rand.Rand
	fail    error // every fetch fails with this when set
	calls   int
	nextGen bool // serve next_since like a newest server
}

func newFakePeer(seed uint64) *fakePeer {
	return &fakePeer{rows: map[string]row.Row{}, rnd: rand.New(rand.NewPCG(seed, 7))}
}

// put stores a valid row version.
func (f *fakePeer) put(id, updatedAt string, extra map[string]any) {
	fields := map[string]any{"id": id, "updated_at": updatedAt, "content": "c-" + id + "-" + updatedAt}
	for k, v := range extra {
		fields[k] = v
	}
	raw, _ := json.Marshal(fields)
	t, err := stamp.Parse(updatedAt)
	row := row.Row{Raw: raw, Fields: fields, ID: id, UpdatedAt: updatedAt, Instant: t}
	if err != nil {
		row.Invalid = err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows[id] = row
}

// putInvalid stores a row that fails validation.
func (f *fakePeer) putInvalid(id, updatedAt, why string) {
	f.put(id, updatedAt, nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rows[id]
	r.Invalid = errors.New(why)
	f.rows[id] = r
}

func (f *fakePeer) Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", peers.ErrUnavailable, err)
	}
	if f.fail != nil {
		return nil, f.fail
	}
	var sel []row.Row
	for _, r := range f.rows {
		if r.UpdatedAt > since {
			sel = append(sel, r)
		}
	}
	f.rnd.Shuffle(len(sel), func(i, j int) { sel[i], sel[j] = sel[j], sel[i] })
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].UpdatedAt < sel[j].UpdatedAt })
	if len(sel) > limit {
		sel = sel[:limit]
	}
	page := &peers.Page{Limit: limit}
	for _, r := range sel {
		if f.hidden != nil && f.hidden(r) {
			page.ExcludedForScope++
			continue
		}
		page.Rows = append(page.Rows, r)
	}
	page.Count = len(page.Rows)
	if f.nextGen && len(sel) > 0 && len(sel) < limit {
		page.NextSince = sel[len(sel)-1].UpdatedAt
	}
	return page, nil
}

// memStore is DynamoDB in a map: newer instant wins, equal instants go to the
// larger raw content, watermarks only move forward within an epoch.
type memStore struct {
	mu         sync.Mutex
	items      map[string]replica.Memory
	marks      map[string]watermark.Mark
	quarantine map[string]replica.Quarantined
	failWrite  func(m replica.Memory) error // injected write fault, nil = none
	puts       int
}

func newMemStore() *memStore {
	return &memStore{items: map[string]replica.Memory{}, marks: map[string]watermark.Mark{}, quarantine: map[string]replica.Quarantined{}}
}

func newer(a, b replica.Memory) bool {
	if !a.Instant.Equal(b.Instant) {
		return a.Instant.After(b.Instant)
	}
	if na, nb := a.FieldCount(), b.FieldCount(); na != nb {
		return na > nb
	}
	ra, _ := json.Marshal(a.Fields)
	rb, _ := json.Marshal(b.Fields)
	return bytes.Compare(ra, rb) > 0
}

func (s *memStore) PutMemory(ctx context.Context, m replica.Memory) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.failWrite != nil {
		if err := s.failWrite(m); err != nil {
			return err
		}
	}
	if old, ok := s.items[m.ID]; ok && !newer(m, old) {
		return replica.ErrStale
	}
	m.Fields = maps.Clone(m.Fields) // lent for the call (replica.Memory)
	s.items[m.ID] = m
	return nil
}

func (s *memStore) WouldApply(ctx context.Context, m replica.Memory) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.items[m.ID]
	return !ok || newer(m, old), nil
}

func (s *memStore) Quarantine(ctx context.Context, q replica.Quarantined) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quarantine[q.Peer+"/"+q.RowID+"/"+q.UpdatedAt] = q
	return nil
}

func (s *memStore) Watermark(ctx context.Context, peer string) (watermark.Mark, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.marks[peer], nil
}

func (s *memStore) AdvanceWatermark(ctx context.Context, peer string, from watermark.Mark, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.marks[peer]
	if cur.Epoch != from.Epoch || to <= cur.Value {
		return replica.ErrConflict
	}
	s.marks[peer] = watermark.Mark{Value: to, Epoch: cur.Epoch}
	return nil
}

// ts returns a timestamp i seconds after a fixed base, in one of the formats
// the peers mix.
func ts(i int, format int) string {
	t := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	switch format % 3 {
	case 1:
		return t.Format("2006-01-02T15:04:05.000+00:00")
	case 2:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format(time.RFC3339)
}
