package bench

import (
	"context"
	"sync"

	"github.com/aimemory/catchup/internal/ddbstore"
)

// memStore is catchup.Store in memory: the pass without DynamoDB, so that a
// benchmark sees the cost of the pass itself.
type memStore struct {
	mu    sync.Mutex
	items map[string]ddbstore.Memory
	marks map[string]ddbstore.Mark
}

func newMemStore() *memStore {
	return &memStore{items: map[string]ddbstore.Memory{}, marks: map[string]ddbstore.Mark{}}
}

func (s *memStore) PutMemory(_ context.Context, m ddbstore.Memory) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.items[m.ID]; ok && !old.Instant.Before(m.Instant) {
		return ddbstore.ErrStale
	}
	s.items[m.ID] = m
	return nil
}

func (s *memStore) Quarantine(context.Context, ddbstore.Quarantined) error { return nil }

func (s *memStore) Watermark(_ context.Context, peer string) (ddbstore.Mark, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.marks[peer], nil
}

func (s *memStore) AdvanceWatermark(_ context.Context, peer string, from ddbstore.Mark, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.marks[peer] != from {
		return ddbstore.ErrConflict
	}
	s.marks[peer] = ddbstore.Mark{Value: to, Epoch: from.Epoch}
	return nil
}

func (s *memStore) WouldApply(_ context.Context, m ddbstore.Memory) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.items[m.ID]
	return !ok || old.Instant.Before(m.Instant), nil
}
