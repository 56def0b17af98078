package catchup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/row"
	"github.com/aimemory/catchup/internal/watermark"
)

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newRunner(src Source, st Store, limit int) *Runner {
	return New(src, st, Options{PageLimit: limit, Now: func() time.Time { return testNow }})
}

// multi routes fetches by peer id.
type multi map[string]*fakePeer

func (m multi) Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error) {
	return m[p.ID].Fetch(ctx, p, since, limit)
}

func peerList(ids ...string) []peers.Peer {
	var ps []peers.Peer
	for _, id := range ids {
		ps = append(ps, peers.Peer{ID: id, URL: "http://127.0.0.1:1"})
	}
	return ps
}

// backlog puts n rows in tie groups of size tie, mixing formats.
func backlog(f *fakePeer, prefix string, n, tie int) {
	for i := 0; i < n; i++ {
		f.put(fmt.Sprintf("%s-%04d", prefix, i), ts(i/tie, i/tie), nil)
	}
}

// assertLanded checks that the store holds exactly the peer's valid rows.
func assertLanded(t *testing.T, f *fakePeer, st *memStore) {
	t.Helper()
	for id, row := range f.rows {
		if row.Invalid != nil {
			continue
		}
		got, ok := st.items[id]
		if !ok {
			t.Errorf("row %s (%s) lost", id, row.UpdatedAt)
			continue
		}
		if got.UpdatedAt != row.UpdatedAt {
			t.Errorf("row %s: have %s, want %s", id, got.UpdatedAt, row.UpdatedAt)
		}
	}
}

func TestDrainsBacklogInOneRun(t *testing.T) {
	f := newFakePeer(1)
	backlog(f, "m", 1200, 7) // tie groups of 7 that pages of 100 cut
	st := newMemStore()
	rep := newRunner(multi{"a": f}, st, 100).Run(context.Background(), Pass{Peers: peerList("a")})
	p := rep.Peers[0]
	if p.Status != StatusCaughtUp || p.Applied != 1200 || p.Failed != 0 {
		t.Fatalf("report = %+v", p)
	}
	assertLanded(t, f, st)
	if want := ts(1199/7, 1199/7); st.marks["a"].Value != want {
		t.Errorf("watermark = %q, want %q", st.marks["a"].Value, want)
	}
	again := newRunner(multi{"a": f}, st, 100).Run(context.Background(), Pass{Peers: peerList("a")})
	if again.Peers[0].Applied != 0 || again.Peers[0].Status != StatusCaughtUp {
		t.Errorf("second pass = %+v, want nothing applied", again.Peers[0])
	}
}

func TestFailedWriteHoldsWatermarkBelowIt(t *testing.T) {
	f := newFakePeer(2)
	backlog(f, "m", 300, 3)
	st := newMemStore()
	broken := "m-0150" // ties with m-0151 and m-0152
	st.failWrite = func(m replica.Memory) error {
		if m.ID == broken {
			return errors.New("throttled")
		}
		return nil
	}
	rep := newRunner(multi{"a": f}, st, 100).Run(context.Background(), Pass{Peers: peerList("a")})
	p := rep.Peers[0]
	if p.Status != StatusFailed || p.Failed != 1 || p.ErrorClass != ClassWrite {
		t.Fatalf("report = %+v", p)
	}
	if wm, bad := st.marks["a"].Value, f.rows[broken].UpdatedAt; wm >= bad {
		t.Fatalf("watermark %q passed the failed row at %q", wm, bad)
	}
	st.failWrite = nil
	rep = newRunner(multi{"a": f}, st, 100).Run(context.Background(), Pass{Peers: peerList("a")})
	if rep.Peers[0].Status != StatusCaughtUp {
		t.Fatalf("second pass = %+v", rep.Peers[0])
	}
	assertLanded(t, f, st)
}

func TestInvalidAndUnwritableRowsAreQuarantined(t *testing.T) {
	f := newFakePeer(3)
	backlog(f, "m", 20, 2)
	f.putInvalid("bad-1", ts(3, 0), "priority: 11 out of range 1..10")
	f.put("huge", ts(4, 0), nil)
	st := newMemStore()
	st.failWrite = func(m replica.Memory) error {
		if m.ID == "huge" {
			return fmt.Errorf("%w: item over 400 KB", replica.ErrUnwritable)
		}
		return nil
	}
	rep := newRunner(multi{"a": f}, st, 8).Run(context.Background(), Pass{Peers: peerList("a")})
	p := rep.Peers[0]
	if p.Status != StatusCaughtUp || p.Invalid != 2 || p.Applied != 20 {
		t.Fatalf("report = %+v", p)
	}
	var reasons []string
	for _, q := range st.quarantine {
		reasons = append(reasons, q.RowID)
	}
	if len(st.quarantine) != 2 {
		t.Errorf("quarantine = %v, want bad-1 and huge", reasons)
	}
}

func TestFailingPeerDisturbsNoOther(t *testing.T) {
	good, down, denied := newFakePeer(4), newFakePeer(5), newFakePeer(6)
	backlog(good, "g", 50, 1)
	backlog(down, "d", 50, 1)
	down.fail = fmt.Errorf("%w: connection refused", peers.ErrUnavailable)
	denied.fail = fmt.Errorf("%w: 401", peers.ErrRejected)
	st := newMemStore()
	rep := newRunner(multi{"good": good, "down": down, "denied": denied}, st, 20).
		Run(context.Background(), Pass{Peers: peerList("good", "down", "denied")})
	got := map[string]string{}
	for _, p := range rep.Peers {
		got[p.Peer] = p.Status + "/" + p.ErrorClass
	}
	want := map[string]string{"good": "caught_up/", "down": "failed/unreachable", "denied": "failed/rejected"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if _, ok := st.marks["down"]; ok {
		t.Error("failed peer's watermark was written")
	}
	assertLanded(t, good, st)
}

func TestBudgetEndsRunWithMore(t *testing.T) {
	f := newFakePeer(7)
	backlog(f, "m", 500, 1)
	st := newMemStore()
	r := newRunner(multi{"a": f}, st, 10)
	ctx, cancel := context.WithTimeout(context.Background(), r.opt.Margin+50*time.Millisecond)
	defer cancel()
	slow := func(replica.Memory) error { time.Sleep(2 * time.Millisecond); return nil }
	st.failWrite = slow
	rep := r.Run(ctx, Pass{Peers: peerList("a")})
	if p := rep.Peers[0]; p.Status != StatusMore || !p.Backlog || p.Applied == 0 || p.Applied == 500 {
		t.Fatalf("report = %+v, want a partial run", p)
	}
	st.failWrite = nil
	rep = newRunner(multi{"a": f}, st, 10).Run(context.Background(), Pass{Peers: peerList("a")})
	if rep.Peers[0].Status != StatusCaughtUp {
		t.Fatalf("second run = %+v", rep.Peers[0])
	}
	assertLanded(t, f, st)
}

func TestDryRunWritesNothing(t *testing.T) {
	f := newFakePeer(8)
	backlog(f, "m", 30, 2)
	f.putInvalid("bad", ts(1, 0), "title: empty")
	st := newMemStore()
	st.items["m-0000"] = replica.Memory{ID: "m-0000", Instant: testNow, UpdatedAt: testNow.Format(time.RFC3339)}
	rep := newRunner(multi{"a": f}, st, 8).Run(context.Background(), Pass{Peers: peerList("a"), DryRun: true})
	p := rep.Peers[0]
	if p.Applied != 29 || p.Stale != 1 || p.Invalid != 1 || p.Status != StatusCaughtUp {
		t.Fatalf("report = %+v", p)
	}
	if st.puts != 0 || len(st.quarantine) != 0 || len(st.marks) != 0 {
		t.Errorf("dry run wrote: puts=%d quarantine=%d marks=%d", st.puts, len(st.quarantine), len(st.marks))
	}
	if p.Watermark == "" {
		t.Error("dry run should report the watermark it would reach")
	}
}

func TestBackfillLeavesLiveWatermark(t *testing.T) {
	f := newFakePeer(9)
	backlog(f, "m", 100, 1)
	st := newMemStore()
	st.marks["a"] = watermark.Mark{Value: ts(90, 0)}
	rep := newRunner(multi{"a": f}, st, 10).Run(context.Background(),
		Pass{Peers: peerList("a"), Range: &Range{From: ts(9, 0), To: ts(40, 0)}})
	p := rep.Peers[0]
	if p.Status != StatusCaughtUp || p.Applied < 31 || p.Applied > 40 {
		t.Fatalf("report = %+v, want rows 10..40 applied", p)
	}
	if st.marks["a"].Value != ts(90, 0) {
		t.Errorf("live watermark moved to %q", st.marks["a"].Value)
	}
	if _, ok := st.items["m-0005"]; ok {
		t.Error("backfill wrote a row before its range")
	}
}

func TestWidensPastTieGroupLargerThanPage(t *testing.T) {
	f := newFakePeer(10)
	for i := 0; i < 250; i++ {
		f.put(fmt.Sprintf("t-%03d", i), ts(5, 0), nil) // one group of 250
	}
	backlog(f, "m", 20, 1)
	st := newMemStore()
	rep := newRunner(multi{"a": f}, st, 100).Run(context.Background(), Pass{Peers: peerList("a")})
	if p := rep.Peers[0]; p.Status != StatusCaughtUp || p.Failed != 0 {
		t.Fatalf("report = %+v", p)
	}
	assertLanded(t, f, st)
}

func TestAllRowsFilteredAdvancesWithNextSince(t *testing.T) {
	f := newFakePeer(11)
	backlog(f, "m", 40, 1)
	f.hidden = func(r row.Row) bool { return true }
	f.nextGen = true
	st := newMemStore()
	rep := newRunner(multi{"a": f}, st, 100).Run(context.Background(), Pass{Peers: peerList("a")})
	if p := rep.Peers[0]; p.Status != StatusCaughtUp || p.Fetched != 0 || p.Watermark != ts(39, 0) {
		t.Fatalf("report = %+v, want watermark moved by next_since", p)
	}
}

func TestRotationStartsElsewhere(t *testing.T) {
	if diff := cmp.Diff([]int{2, 0, 1}, rotated(3, 5)); diff != "" {
		t.Errorf("rotated (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 2, 0}, rotated(3, -2)); diff != "" {
		t.Errorf("rotated negative (-want +got):\n%s", diff)
	}
}

// deadlineStore takes a while per write and honors the context, as the SDK does.
type deadlineStore struct {
	*memStore
	delay time.Duration
}

func (s deadlineStore) PutMemory(ctx context.Context, m replica.Memory) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.memStore.PutMemory(ctx, m)
}

func TestInvocationDeadlineCuttingWritesIsNotAPeerFailure(t *testing.T) {
	f := newFakePeer(12)
	backlog(f, "m", 200, 1)
	st := newMemStore()
	r := New(multi{"a": f}, deadlineStore{st, 5 * time.Millisecond},
		Options{PageLimit: 100, WriteConcurrency: 1, Margin: time.Millisecond, Now: time.Now})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	p := r.Run(ctx, Pass{Peers: peerList("a")}).Peers[0]
	if p.Status != StatusMore || p.ErrorClass != "" || p.Failed == 0 {
		t.Fatalf("report = %+v, want more (writes cut by the deadline), not a failure", p)
	}
	if wm := st.marks["a"].Value; wm >= f.rows[p.Failures[0].ID].UpdatedAt {
		t.Errorf("watermark %q passed the cut row %s", wm, p.Failures[0].ID)
	}
	p = newRunner(multi{"a": f}, st, 100).Run(context.Background(), Pass{Peers: peerList("a")}).Peers[0]
	if p.Status != StatusCaughtUp {
		t.Fatalf("next run = %+v", p)
	}
	assertLanded(t, f, st)
}

// lingeringSource answers the first fetch from a fake peer and holds every
// later one until its context ends, then takes a while to return.
type lingeringSource struct {
	*fakePeer
	mu       sync.Mutex
	calls    int
	returned int
}

func (s *lingeringSource) Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error) {
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	s.mu.Unlock()
	if first {
		return s.fakePeer.Fetch(ctx, p, since, limit)
	}
	<-ctx.Done()
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	s.returned++
	s.mu.Unlock()
	return nil, ctx.Err()
}

func TestRunWaitsForAbandonedPrefetch(t *testing.T) {
	f := newFakePeer(13)
	backlog(f, "m", 30, 1)
	src := &lingeringSource{fakePeer: f}
	st := newMemStore()
	st.failWrite = func(m replica.Memory) error {
		if m.ID == "m-0003" {
			return errors.New("throttled") // blocks the page: its prefetch is abandoned
		}
		return nil
	}
	p := newRunner(src, st, 10).Run(context.Background(), Pass{Peers: peerList("a")}).Peers[0]
	if p.Status != StatusFailed || p.Failed != 1 {
		t.Fatalf("report = %+v", p)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.calls != 2 || src.returned != 1 {
		t.Errorf("Run returned with %d of %d prefetches still running", src.calls-1-src.returned, src.calls-1)
	}
}

// overlapStore records whether two writes of one id were ever in flight at
// once; each write takes a moment, as a round trip does.
type overlapStore struct {
	*memStore
	mu       sync.Mutex
	inFlight map[string]int
	overlaps int
	writes   int
}

func (s *overlapStore) PutMemory(ctx context.Context, m replica.Memory) error {
	s.mu.Lock()
	s.inFlight[m.ID]++
	s.writes++
	if s.inFlight[m.ID] > 1 {
		s.overlaps++
	}
	s.mu.Unlock()
	time.Sleep(200 * time.Microsecond)
	defer func() { s.mu.Lock(); s.inFlight[m.ID]--; s.mu.Unlock() }()
	return s.memStore.PutMemory(ctx, m)
}

// Peers of a mesh serve versions of the same ids, pulled at once: no two
// writes of one id may be in flight together (the stand-ins do not evaluate
// a conditional write atomically), and the newest version lands.
func TestOneWriteOfAnIDInFlight(t *testing.T) {
	src := multi{}
	for i, id := range []string{"a", "b", "c"} {
		f := newFakePeer(uint64(10 + i))
		for j := range 300 {
			f.put(fmt.Sprintf("m-%04d", j), ts(j/5*3+i, i), map[string]any{"by": id})
		}
		src[id] = f
	}
	st := &overlapStore{memStore: newMemStore(), inFlight: map[string]int{}}
	r := New(src, st, Options{PageLimit: 50, PeerConcurrency: 3, WriteConcurrency: 32, Now: func() time.Time { return testNow }})
	rep := r.Run(context.Background(), Pass{Peers: peerList("a", "b", "c")})
	if !caughtUp(rep) {
		t.Fatalf("report = %+v", rep.Peers)
	}
	if st.overlaps != 0 {
		t.Errorf("%d of %d writes overlapped another write of the same id", st.overlaps, st.writes)
	}
	for j := range 300 {
		id := fmt.Sprintf("m-%04d", j)
		if got, want := st.items[id].UpdatedAt, ts(j/5*3+2, 2); got != want {
			t.Errorf("%s: table holds %q, want the newest, %q", id, got, want)
		}
	}
}
