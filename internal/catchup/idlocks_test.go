package catchup

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// TestWritesOfDifferentIDsNeverWaitForEachOther: a page of WRITE_CONCURRENCY
// distinct ids has every one of its writes in flight at once. (Locks striped
// by a hash of the id let two of 256 ids share a stripe in nearly every run,
// and one write then waited out the other.)
func TestWritesOfDifferentIDsNeverWaitForEachOther(t *testing.T) {
	const w = 256
	f := newFakePeer(40)
	backlog(f, "wide", w, 1)
	st := &barrierStore{memStore: newMemStore(), want: w, all: make(chan struct{})}
	r := New(multi{"a": f}, st, Options{PageLimit: w, WriteConcurrency: w, Now: func() time.Time { return testNow }})
	rep := r.Run(context.Background(), Pass{Peers: peerList("a")})
	if p := rep.Peers[0]; p.Status != StatusCaughtUp || p.Applied != w {
		t.Fatalf("report = %+v", p)
	}
	if most := st.most.Load(); most != w {
		t.Errorf("at most %d of %d writes of distinct ids in flight at once", most, w)
	}
	assertLanded(t, f, st.memStore)
}

// barrierStore holds every write until want writes are in flight at once
// (or 5 s have passed) and records the most it saw.
type barrierStore struct {
	*memStore
	want           int32
	inFlight, most atomic.Int32
	all            chan struct{}
}

func (s *barrierStore) PutMemory(ctx context.Context, m replica.Memory) error {
	n := s.inFlight.Add(1)
	for old := s.most.Load(); n > old && !s.most.CompareAndSwap(old, n); old = s.most.Load() {
	}
	if n == s.want {
		close(s.all)
	}
	select {
	case <-s.all:
	case <-time.After(5 * time.Second):
	}
	s.inFlight.Add(-1)
	return s.memStore.PutMemory(ctx, m)
}

// TestIDLocksHoldOneWriteOfAnID: a second write of an id waits for the
// first to end, however many wait; another id does not wait.
func TestIDLocksHoldOneWriteOfAnID(t *testing.T) {
	l := newIDLocks()
	l.lock("a")
	var holding atomic.Int32
	done := make(chan struct{}, 3)
	for range 3 {
		go func() {
			l.lock("a")
			if n := holding.Add(1); n != 1 {
				t.Errorf("%d writes of one id at once", n)
			}
			time.Sleep(time.Millisecond)
			holding.Add(-1)
			l.unlock("a")
			done <- struct{}{}
		}()
	}
	l.lock("b") // not held up by "a"
	l.unlock("b")
	time.Sleep(10 * time.Millisecond)
	if n := holding.Load(); n != 0 {
		t.Fatalf("%d writes of a held id went ahead", n)
	}
	l.unlock("a")
	for range 3 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("a waiting write never went ahead")
		}
	}
	if len(l.writing) != 0 {
		t.Errorf("ids left locked: %v", l.writing)
	}
}
