package bench

import (
	"context"
	"maps"
	"sync"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/watermark"
)

// memStore is catchup.Store in memory: the pass without DynamoDB, so that a
// benchmark sees the cost of the pass itself.
type memStore struct {
	mu    sync.Mutex
	items map[string]replica.Memory
	marks map[string]watermark.Mark
}

func newMemStore() *memStore {
	return &memStore{items: map[string]replica.Memory{}, marks: map[string]watermark.Mark{}}
}

func (s *memStore) PutMemory(_ context.Context, m replica.Memory) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.items[m.ID]; ok && !old.Instant.Before(m.Instant) {
		return replica.ErrStale
	}
	m.Fields = maps.Clone(m.Fields) // lent for the call (replica.Memory)
	s.items[m.ID] = m
	return nil
}

func (s *memStore) Quarantine(context.Context, replica.Quarantined) error { return nil }

func (s *memStore) Watermark(_ context.Context, peer string) (watermark.Mark, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.marks[peer], nil
}

func (s *memStore) AdvanceWatermark(_ context.Context, peer string, from watermark.Mark, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.marks[peer] != from {
		return replica.ErrConflict
	}
	s.marks[peer] = watermark.Mark{Value: to, Epoch: from.Epoch}
	return nil
}

func (s *memStore) WouldApply(_ context.Context, m replica.Memory) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.items[m.ID]
	return !ok || old.Instant.Before(m.Instant), nil
}
