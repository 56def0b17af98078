package catchup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/fakeclock"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/watermark"
)

// memBreakers keeps breakers in a map, as ddbstore does in the state table:
// RecordFailure counts and sets retry_at from the same clock as the runner.
type memBreakers struct {
	mu       sync.Mutex
	now      func() time.Time
	state    map[string]replica.BreakerState
	readErr  error // Breaker fails with this when set
	failures int   // RecordFailure calls
}

func newMemBreakers(now func() time.Time) *memBreakers {
	return &memBreakers{now: now, state: map[string]replica.BreakerState{}}
}

func (b *memBreakers) Breaker(ctx context.Context, peer string) (replica.BreakerState, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.readErr != nil {
		return replica.BreakerState{}, b.readErr
	}
	return b.state[peer], nil
}

func (b *memBreakers) RecordFailure(ctx context.Context, peer, errText string, backoff func(int) time.Duration) (replica.BreakerState, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	st := b.state[peer]
	st.Failures++
	st.RetryAt = b.now().Add(backoff(st.Failures))
	st.LastError = errText
	b.state[peer] = st
	return st, nil
}

func (b *memBreakers) RecordSuccess(ctx context.Context, peer string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.state, peer)
	return nil
}

func (b *memBreakers) get(peer string) replica.BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state[peer]
}

// breakerRig is one peer behind a breaker, with a clock the test moves.
type breakerRig struct {
	clock *fakeclock.Clock
	peer  *fakePeer
	store *memStore
	brk   *memBreakers
	run   *Runner
}

func newBreakerRig(seed uint64) *breakerRig {
	c := fakeclock.New(testNow)
	g := &breakerRig{clock: c, peer: newFakePeer(seed), store: newMemStore(), brk: newMemBreakers(c.Now)}
	backlog(g.peer, "m", 5, 1)
	g.run = New(multi{"a": g.peer}, g.store, Options{PageLimit: 10, Now: c.Now, Breakers: g.brk})
	return g
}

// pass runs one pass over the rig's peer and returns its report and how many
// requests reached the peer.
func (g *breakerRig) pass(t *testing.T, p Pass) (PeerReport, int) {
	t.Helper()
	g.peer.mu.Lock()
	before := g.peer.calls
	g.peer.mu.Unlock()
	p.Peers = peerList("a")
	rep := g.run.Run(context.Background(), p).Peers[0]
	g.peer.mu.Lock()
	defer g.peer.mu.Unlock()
	return rep, g.peer.calls - before
}

func (g *breakerRig) setFail(err error) {
	g.peer.mu.Lock()
	defer g.peer.mu.Unlock()
	g.peer.fail = err
}

var errDown = fmt.Errorf("dial tcp: connection refused: %w", peers.ErrUnavailable)

func TestBreakerBackoff(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, 0}, {2, 0}, // a blip is retried next run
		{3, 5 * time.Minute}, {4, 10 * time.Minute}, {5, 20 * time.Minute},
		{8, 160 * time.Minute}, {9, 320 * time.Minute},
		{10, 6 * time.Hour}, {11, 6 * time.Hour}, {1000, 6 * time.Hour},
	} {
		if got := BreakerBackoff(tc.failures); got != tc.want {
			t.Errorf("BreakerBackoff(%d) = %s, want %s", tc.failures, got, tc.want)
		}
	}
}

// A peer failing run after run is skipped until its retry time, at no cost,
// and comes back by itself once it answers again.
func TestBreakerSkipsFailingPeerUntilRetryAt(t *testing.T) {
	g := newBreakerRig(21)
	g.setFail(errDown)
	for run := 1; run <= 3; run++ {
		rep, calls := g.pass(t, Pass{})
		if rep.Status != StatusFailed || rep.ErrorClass != ClassUnreachable || calls == 0 {
			t.Fatalf("run %d: %s/%s after %d requests, want a failed pull", run, rep.Status, rep.ErrorClass, calls)
		}
	}
	st := g.brk.get("a")
	if st.Failures != 3 || !st.RetryAt.Equal(testNow.Add(5*time.Minute)) || !strings.Contains(st.LastError, "connection refused") {
		t.Fatalf("breaker after 3 failures = %+v, want retry at now+5m", st)
	}

	g.clock.Advance(5*time.Minute - time.Second)
	rep, calls := g.pass(t, Pass{})
	if rep.Status != StatusSkipped || calls != 0 || !strings.Contains(rep.Error, "circuit open after 3 failures") {
		t.Fatalf("before retry_at: %s after %d requests (%q), want skipped without a request", rep.Status, calls, rep.Error)
	}
	if got := g.brk.get("a").Failures; got != 3 {
		t.Errorf("a skipped run changed the failure count to %d", got)
	}

	g.clock.Advance(time.Second) // retry_at reached: tried again, fails again
	if rep, calls := g.pass(t, Pass{}); rep.Status != StatusFailed || calls == 0 {
		t.Fatalf("at retry_at: %s after %d requests, want tried and failed", rep.Status, calls)
	}
	if st := g.brk.get("a"); st.Failures != 4 || !st.RetryAt.Equal(g.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("breaker after 4 failures = %+v, want retry 10m later", st)
	}

	g.setFail(nil) // the peer is back
	g.clock.Advance(10 * time.Minute)
	rep, _ = g.pass(t, Pass{})
	if rep.Status != StatusCaughtUp || rep.Applied != 5 {
		t.Fatalf("after recovery: %+v, want caught up with 5 rows", rep)
	}
	if st := g.brk.get("a"); st != (replica.BreakerState{}) {
		t.Errorf("breaker after a success = %+v, want closed", st)
	}
}

// An operator naming peers wants them tried: the open breaker is ignored,
// and the outcome still counts.
func TestExplicitPeersIgnoreOpenBreaker(t *testing.T) {
	g := newBreakerRig(22)
	g.brk.state["a"] = replica.BreakerState{Failures: 7, RetryAt: testNow.Add(time.Hour), LastError: "old"}
	if rep, calls := g.pass(t, Pass{}); rep.Status != StatusSkipped || calls != 0 {
		t.Fatalf("scheduled run: %s after %d requests, want skipped", rep.Status, calls)
	}
	rep, calls := g.pass(t, Pass{IgnoreBreaker: true})
	if rep.Status != StatusCaughtUp || calls == 0 {
		t.Fatalf("explicit run: %s after %d requests, want pulled", rep.Status, calls)
	}
	if st := g.brk.get("a"); st.Failures != 0 {
		t.Errorf("a successful explicit run left the breaker at %+v", st)
	}
}

// Rows that fail to write say nothing about the peer's health: the peer
// answered, so its breaker stays closed however often writes fail.
func TestWriteFailuresDoNotTripBreaker(t *testing.T) {
	g := newBreakerRig(23)
	g.store.failWrite = func(replica.Memory) error { return errors.New("throttled") }
	for run := 1; run <= 6; run++ {
		rep, calls := g.pass(t, Pass{})
		if rep.Status != StatusFailed || rep.ErrorClass != ClassWrite || calls == 0 {
			t.Fatalf("run %d: %s/%s after %d requests, want pulled, writes failed", run, rep.Status, rep.ErrorClass, calls)
		}
		g.clock.Advance(time.Minute)
	}
	if g.brk.failures != 0 || g.brk.get("a").Failures != 0 {
		t.Errorf("write failures recorded %d breaker failures", g.brk.failures)
	}
}

// statelessStore cannot read watermarks: the state table is down.
type statelessStore struct{ *memStore }

func (statelessStore) Watermark(ctx context.Context, peer string) (watermark.Mark, error) {
	return watermark.Mark{}, errors.New("state table unreachable")
}

// The state table failing is not the peer's fault either.
func TestStateFailuresDoNotTripBreaker(t *testing.T) {
	g := newBreakerRig(24)
	g.run = New(multi{"a": g.peer}, statelessStore{g.store}, Options{PageLimit: 10, Now: g.clock.Now, Breakers: g.brk})
	for run := 1; run <= 4; run++ {
		if rep, _ := g.pass(t, Pass{}); rep.Status != StatusFailed || rep.ErrorClass != ClassState {
			t.Fatalf("run %d: %s/%s, want a state failure", run, rep.Status, rep.ErrorClass)
		}
	}
	if g.brk.failures != 0 {
		t.Errorf("state failures recorded %d breaker failures", g.brk.failures)
	}
}

// Each peer-level failure class counts; a rejected peer (wrong key) is
// skipped like an unreachable one.
func TestEveryPeerFailureClassCounts(t *testing.T) {
	for _, err := range []error{
		errDown,
		fmt.Errorf("401 after a fresh key: %w", peers.ErrRejected),
		fmt.Errorf("body over the cap: %w", peers.ErrBadResponse),
	} {
		g := newBreakerRig(25)
		g.setFail(err)
		var got []string
		for range 4 {
			rep, _ := g.pass(t, Pass{})
			got = append(got, rep.Status)
		}
		want := []string{StatusFailed, StatusFailed, StatusFailed, StatusSkipped}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%v: statuses (-want +got):\n%s", err, diff)
		}
	}
}

// Dry runs and backfills neither consult nor move the breaker: they are
// operator actions on a peer the operator chose.
func TestDryRunAndBackfillLeaveBreakerAlone(t *testing.T) {
	open := replica.BreakerState{Failures: 5, RetryAt: testNow.Add(time.Hour), LastError: "old"}
	for name, p := range map[string]Pass{
		"dry run":  {DryRun: true},
		"backfill": {Range: &Range{From: ""}},
	} {
		g := newBreakerRig(26)
		g.brk.state["a"] = open
		if rep, calls := g.pass(t, p); rep.Status != StatusCaughtUp || calls == 0 {
			t.Errorf("%s: %s after %d requests, want pulled despite the open breaker", name, rep.Status, calls)
		}
		g.setFail(errDown)
		if rep, _ := g.pass(t, p); rep.Status != StatusFailed {
			t.Errorf("%s against a dead peer: %s, want failed", name, rep.Status)
		}
		if st := g.brk.get("a"); st != open {
			t.Errorf("%s moved the breaker to %+v", name, st)
		}
	}
}

// Reconcile walks a peer whatever its breaker says and leaves the breaker
// as it was, even when the peer is down: the walk is an operator's (a
// ranged pass), and a failed walk already withholds every deletion.
func TestReconcileLeavesBreakerAlone(t *testing.T) {
	open := replica.BreakerState{Failures: 5, RetryAt: testNow.Add(time.Hour), LastError: "old"}
	peer := newFakePeer(27)
	backlog(peer, "m", 5, 1)
	brk := newMemBreakers(func() time.Time { return testNow })
	brk.state["a"] = open
	st := newVerStore()
	r := New(multi{"a": peer}, st, Options{PageLimit: 10, Now: func() time.Time { return testNow }, Breakers: brk})
	rep := r.Reconcile(context.Background(), st, Reconcile{Peers: peerList("a")}, ReconcileOptions{})
	if len(rep.Peers) != 1 || rep.Peers[0].Status != StatusCaughtUp || rep.Repaired != 5 {
		t.Fatalf("reconcile under an open breaker: %+v, want the peer walked and 5 rows repaired", rep.Peers)
	}
	peer.mu.Lock()
	peer.fail = errDown
	peer.mu.Unlock()
	rep = r.Reconcile(context.Background(), st, Reconcile{Peers: peerList("a")}, ReconcileOptions{})
	if rep.Peers[0].Status != StatusFailed {
		t.Errorf("reconcile against a dead peer: %s, want failed", rep.Peers[0].Status)
	}
	if got := brk.get("a"); got != open {
		t.Errorf("reconcile moved the breaker to %+v", got)
	}
}

// A breaker that cannot be read does not keep a peer from being pulled.
func TestUnreadableBreakerDoesNotSkip(t *testing.T) {
	g := newBreakerRig(27)
	g.brk.readErr = errors.New("throttled")
	if rep, calls := g.pass(t, Pass{}); rep.Status != StatusCaughtUp || calls == 0 {
		t.Errorf("%s after %d requests, want pulled", rep.Status, calls)
	}
}

// A skipped peer keeps reporting its watermark and its failure count, so its
// lag and the PeerFailing alarm keep seeing it while nothing is pulled.
func TestSkippedPeerReportsWatermark(t *testing.T) {
	g := newBreakerRig(28)
	g.store.marks["a"] = watermark.Mark{Value: ts(1, 0), Epoch: 2}
	g.brk.state["a"] = replica.BreakerState{Failures: 4, RetryAt: testNow.Add(time.Minute), LastError: "refused"}
	rep, calls := g.pass(t, Pass{})
	if calls != 0 || rep.Status != StatusSkipped {
		t.Fatalf("%s after %d requests, want skipped", rep.Status, calls)
	}
	if rep.Watermark != ts(1, 0) || rep.PrevWatermark != ts(1, 0) || rep.ConsecutiveFailures != 4 {
		t.Errorf("skipped report: watermark %q (previous %q), consecutive failures %d; want %q, 4",
			rep.Watermark, rep.PrevWatermark, rep.ConsecutiveFailures, ts(1, 0))
	}
}

// countingBreakers counts RecordSuccess calls.
type countingBreakers struct {
	*memBreakers
	successes int
}

func (b *countingBreakers) RecordSuccess(ctx context.Context, peer string) error {
	b.mu.Lock()
	b.successes++
	b.mu.Unlock()
	return b.memBreakers.RecordSuccess(ctx, peer)
}

func TestHealthyPeerCostsNoBreakerWrite(t *testing.T) {
	g := newBreakerRig(31)
	cb := &countingBreakers{memBreakers: g.brk}
	g.run = New(multi{"a": g.peer}, g.store, Options{PageLimit: 10, Now: g.clock.Now, Breakers: cb})
	if rep, _ := g.pass(t, Pass{}); rep.Status != StatusCaughtUp {
		t.Fatalf("report = %+v", rep)
	}
	if cb.successes != 0 {
		t.Errorf("a peer with no failures recorded %d successes, want 0 writes", cb.successes)
	}
	g.setFail(errDown)
	g.pass(t, Pass{})
	g.setFail(nil)
	g.pass(t, Pass{})
	if cb.successes != 1 || g.brk.get("a").Failures != 0 {
		t.Errorf("after a failure then a success: %d successes, breaker %+v; want 1 and cleared", cb.successes, g.brk.get("a"))
	}
}

func TestPeerNotReachedBeforeDeadlineIsNotAFailure(t *testing.T) {
	g := newBreakerRig(32)
	ctx, cancel := context.WithTimeout(context.Background(), g.run.opt.Margin/2) // budget already spent
	defer cancel()
	g.store.marks["a"] = watermark.Mark{Value: ts(1, 0)}
	rep := g.run.Run(ctx, Pass{Peers: peerList("a")}).Peers[0]
	if rep.Status != StatusMore || rep.Watermark != ts(1, 0) || rep.ErrorClass != "" {
		t.Errorf("report = %+v, want more with its watermark and no error class", rep)
	}
	if g.brk.failures != 0 {
		t.Errorf("breaker counted %d failures for a peer never reached", g.brk.failures)
	}
}

// hangingSource answers nothing until the request's context ends.
type hangingSource struct{}

func (hangingSource) Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("%w: %v", peers.ErrUnavailable, ctx.Err())
}

func TestBudgetEndingDuringFirstPageIsNotAFailure(t *testing.T) {
	brk := newMemBreakers(func() time.Time { return testNow })
	r := New(hangingSource{}, newMemStore(), Options{Margin: time.Millisecond, Now: func() time.Time { return testNow }, Breakers: brk})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	p := r.Run(ctx, Pass{Peers: peerList("a")}).Peers[0]
	if p.Status != StatusMore || p.ErrorClass != "" || p.Pages != 0 {
		t.Errorf("report = %+v, want more with no error class", p)
	}
	if brk.failures != 0 {
		t.Errorf("breaker counted %d failures for a page the budget cut", brk.failures)
	}
}
