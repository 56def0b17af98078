// Package catchup runs one pass over the peers: for each, drain its delta page
// by page, write every row that is newer than the table's, quarantine the
// invalid ones, and advance its watermark only over what is durably done.
package catchup

import (
	"context"
	"sync"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/watermark"
)

// Source fetches pages from peers (peers.Client).
type Source interface {
	Fetch(ctx context.Context, p peers.Peer, since string, limit int) (*peers.Page, error)
}

// Store keeps memories, quarantined rows and watermarks (ddbstore.Store).
type Store interface {
	PutMemory(ctx context.Context, m replica.Memory) error
	Quarantine(ctx context.Context, q replica.Quarantined) error
	Watermark(ctx context.Context, peer string) (watermark.Mark, error)
	AdvanceWatermark(ctx context.Context, peer string, from watermark.Mark, to string) error
	// WouldApply reports whether PutMemory would change the table (dry runs).
	WouldApply(ctx context.Context, m replica.Memory) (bool, error)
}

// Defaults for the zero values of Options. functions/catchup reads these for
// its configuration defaults, so they are written once.
const (
	DefaultPageLimit        = 500
	DefaultPeerConcurrency  = 8
	DefaultWriteConcurrency = 32
	DefaultSkew             = 5 * time.Minute
	DefaultMargin           = 10 * time.Second
	DefaultBudget           = 5 * time.Minute
)

// Options tune a Runner. Zero values take the defaults in brackets.
type Options struct {
	PageLimit        int           // rows asked per page [500]
	PeerConcurrency  int           // peers drained at once [8]
	WriteConcurrency int           // row writes in flight across all peers [32]
	Skew             time.Duration // how far past now a watermark may go [5m]
	Margin           time.Duration // kept free before the context deadline to finish writes [10s]
	Budget           time.Duration // run length when the context has no deadline [5m]
	Now              func() time.Time
	Breakers         Breakers // nil: no circuit breaker
	// Progress, when set, is called from a peer's drain at most every
	// ProgressEvery [10s] with where it stands.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// Runner runs passes. It is safe for concurrent use; each Run is independent.
type Runner struct {
	src     Source
	store   Store
	opt     Options
	writers *writers // WriteConcurrency at most, shared by every peer of every run
	ids     *idLocks // one write of an id in flight at a time
}

// New returns a Runner.
func New(src Source, store Store, opt Options) *Runner {
	if opt.PageLimit <= 0 {
		opt.PageLimit = DefaultPageLimit
	}
	if opt.PeerConcurrency <= 0 {
		opt.PeerConcurrency = DefaultPeerConcurrency
	}
	if opt.WriteConcurrency <= 0 {
		opt.WriteConcurrency = DefaultWriteConcurrency
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = defaultProgressEvery
	}
	if opt.Skew <= 0 {
		opt.Skew = DefaultSkew
	}
	if opt.Margin <= 0 {
		opt.Margin = DefaultMargin
	}
	if opt.Budget <= 0 {
		opt.Budget = DefaultBudget
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Runner{src: src, store: store, opt: opt, writers: &writers{max: opt.WriteConcurrency}, ids: newIDLocks()}
}

// Pass says what one run does.
type Pass struct {
	Peers  []peers.Peer
	DryRun bool // pull and validate, write nothing
	// Rotate starts the pass at this index (modulo len(Peers)) so that no peer
	// is always last when the deadline comes.
	Rotate int
	// IgnoreBreaker pulls peers whose circuit breaker is open (an operator
	// naming peers explicitly wants them tried).
	IgnoreBreaker bool
	// Range, when set, pulls rows updated after Range.From up to Range.To
	// (a backfill) and never reads or moves the live watermark.
	Range *Range
	// rec, during a reconcile, decides which rows are worth writing.
	rec *recState
}

// Range bounds a backfill: rows with From < updated_at (byte-wise, as the peer
// compares), stopping once a page reaches To.
type Range struct{ From, To string }

// Run drains every peer of the pass, at most PeerConcurrency at once, and
// reports on each in the order given. ctx's deadline, less the margin, is the
// time budget for pulling; writes already started may use the margin.
func (r *Runner) Run(ctx context.Context, pass Pass) Report {
	ctx = peers.WithRun(ctx) // one key refetch after a 401 per peer per run (docs/protocol.md §8)
	start := r.opt.Now()
	budget, cancel := r.budget(ctx)
	defer cancel()
	rep := Report{DryRun: pass.DryRun, Peers: make([]PeerReport, len(pass.Peers))}
	order := rotated(len(pass.Peers), pass.Rotate)
	sem := make(chan struct{}, r.opt.PeerConcurrency)
	var wg sync.WaitGroup
	for _, i := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			rep.Peers[i] = r.drain(ctx, budget, pass.Peers[i], pass)
		}(i)
	}
	wg.Wait()
	rep.finish(ctx, start, r.opt.Now())
	return rep
}

// budget derives the pulling context: the caller's deadline less the margin,
// or Budget from now when the caller has no deadline.
func (r *Runner) budget(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-r.opt.Margin))
	}
	return context.WithTimeout(ctx, r.opt.Budget)
}

// rotated returns 0..n-1 starting at off modulo n.
func rotated(n, off int) []int {
	order := make([]int, n)
	if n == 0 {
		return order
	}
	off = ((off % n) + n) % n
	for i := range order {
		order[i] = (off + i) % n
	}
	return order
}
