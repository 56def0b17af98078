package catchup

// Faults of the run itself: the deadline reached mid-page, the process
// killed between any two writes, two passes at once, and a late retry of an
// old invocation.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/watermark"
)

// slowStore makes every write take d, and fails it without effect when
// ctx ends first, as a DynamoDB call cut by the deadline does.
type slowStore struct {
	Store
	d time.Duration
}

func (s slowStore) wait(ctx context.Context) error {
	t := time.NewTimer(s.d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("write: %w", ctx.Err())
	}
}

func (s slowStore) PutMemory(ctx context.Context, m replica.Memory) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.PutMemory(ctx, m)
}

func (s slowStore) AdvanceWatermark(ctx context.Context, peer string, from watermark.Mark, to string) error {
	if err := s.wait(ctx); err != nil {
		return err
	}
	return s.Store.AdvanceWatermark(ctx, peer, from, to)
}

func TestDeadlineMidPage(t *testing.T) {
	cases := []struct {
		name           string
		margin, budget time.Duration // the context's deadline is margin + budget away
		write          time.Duration
	}{
		// The budget ends while a page is being written; the margin lets
		// that page's writes and watermark finish.
		{"budget ends mid-page", 200 * time.Millisecond, 150 * time.Millisecond, 3 * time.Millisecond},
		// The margin is too short: the deadline cuts writes in flight.
		{"deadline cuts writes", time.Millisecond, 100 * time.Millisecond, 10 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWire(t, nil)
			w.srv.Load(peertest.Backlog(300, 4, 3, true))
			r := New(w.client, slowStore{w.audit, c.write}, Options{
				PageLimit: 20, WriteConcurrency: 2, Margin: c.margin, Now: func() time.Time { return testNow },
			})
			ctx, cancel := context.WithTimeout(context.Background(), c.margin+c.budget)
			defer cancel()
			rep := r.Run(ctx, Pass{Peers: []peers.Peer{w.peer}}).Peers[0]
			// Cut writes are reported as failed rows (and the watermark write
			// cut with them as a state failure); either way the pass stops short.
			if rep.Status == StatusCaughtUp || rep.Applied == 0 || rep.Applied == 300 {
				t.Fatalf("report %+v, want a pass cut short with rows applied", rep)
			}
			if rep.Watermark != w.mark() {
				t.Errorf("report says watermark %q, the store holds %q", rep.Watermark, w.mark())
			}
			w.converge(t)
		})
	}
}

// TestCrashAtEveryWrite kills the pass after k durable writes, for every k
// up to the writes of a whole pass, then runs fresh passes: each time the
// table converges with nothing lost, and no watermark ever passed a row
// that was not done.
func TestCrashAtEveryWrite(t *testing.T) {
	rows := peertest.Sample(45, 5, 3) // tie groups of 3, mixed formats, 2 invalid rows
	total := 0
	{
		w := newWire(t, nil)
		w.srv.Load(rows)
		w.limit = 7
		c := &crash{k: -1, cancel: func() {}, counts: &faultCounts{}}
		w.run(context.Background(), crashStore{w.audit, c})
		total = c.writes
	}
	if total < 50 {
		t.Fatalf("a whole pass made %d writes; want rows plus watermarks", total)
	}
	for k := range total + 1 {
		w := newWire(t, nil)
		w.srv.Load(rows)
		w.limit = 7
		ctx, cancel := context.WithCancel(context.Background())
		c := &crash{k: k, cancel: cancel, counts: &faultCounts{}}
		r := New(crashSource{w.client, c}, crashStore{w.audit, c}, Options{PageLimit: 7, Now: func() time.Time { return testNow }})
		r.Run(ctx, Pass{Peers: []peers.Peer{w.peer}})
		cancel()
		w.converge(t)
		if t.Failed() {
			t.Fatalf("crash after write %d of %d", k, total)
		}
	}
}

// runTwoAtOnce runs two passes of the wire's peer at the same time.
func (w *wire) runTwoAtOnce() []PeerReport {
	var wg sync.WaitGroup
	reps := make([]PeerReport, 2)
	for i := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i] = w.run(context.Background(), nil)
		}()
	}
	wg.Wait()
	return reps
}

func TestTwoPassesAtOnce(t *testing.T) {
	for round := range 5 {
		w := newWire(t, nil)
		w.srv.Load(peertest.Backlog(200, int64(round), 6, true))
		w.limit = 20
		reps := w.runTwoAtOnce()
		for _, rep := range reps {
			if rep.Status == StatusFailed {
				t.Errorf("round %d: a pass failed: %+v", round, rep)
			}
		}
		w.converge(t)
	}
}

// gateStore holds the first watermark write until released, as an old
// invocation that stalls and is retried late.
type gateStore struct {
	Store
	once    sync.Once
	arrived chan struct{}
	release chan struct{}
}

func (g *gateStore) AdvanceWatermark(ctx context.Context, peer string, from watermark.Mark, to string) error {
	g.once.Do(func() {
		close(g.arrived)
		<-g.release
	})
	return g.Store.AdvanceWatermark(ctx, peer, from, to)
}

// TestLateOldPassCannotRegress: an old pass that reaches its watermark write
// after a newer pass (and, in one case, an operator's reset) must not move
// the watermark; it stops that peer without failing, and nothing is lost.
func TestLateOldPassCannotRegress(t *testing.T) {
	for _, reset := range []bool{false, true} {
		t.Run(fmt.Sprintf("reset=%v", reset), func(t *testing.T) {
			w := newWire(t, nil)
			w.srv.Load(peertest.Backlog(100, 6, 2, true))
			g := &gateStore{Store: w.audit, arrived: make(chan struct{}), release: make(chan struct{})}
			old := make(chan PeerReport)
			go func() { old <- w.run(context.Background(), g) }()
			<-g.arrived
			if rep := w.run(context.Background(), nil); rep.Status != StatusCaughtUp {
				t.Fatalf("newer pass: %+v", rep)
			}
			want := watermark.Mark{Value: w.mark()}
			if reset {
				want = watermark.Mark{Value: "", Epoch: 1}
				w.mem.marks[w.peer.ID] = want
				w.audit.noteReset(w.peer.ID, want)
			}
			close(g.release)
			rep := <-old
			if rep.Status != StatusMore {
				t.Errorf("old pass: %+v, want stopped with more (another run moved the watermark)", rep)
			}
			if got, _ := (memTruth{w.mem}).mark(context.Background(), w.peer.ID); got != want {
				t.Errorf("watermark %+v after the old pass, want %+v", got, want)
			}
			w.converge(t)
		})
	}
}
