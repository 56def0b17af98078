package catchup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/watermark"
)

// fetched is a page being pulled, possibly ahead of need.
type fetched struct {
	cancel context.CancelFunc
	since  string
	limit  int
	done   chan struct{}
	page   *peers.Page
	err    error
}

// prefetch starts pulling one page in the background; drain waits for every
// fetch it started, used or abandoned, before it returns.
func (r *Runner) prefetch(ctx context.Context, pr *peerRun, since string, limit int) *fetched {
	ctx, cancel := context.WithCancel(ctx)
	f := &fetched{cancel: cancel, since: since, limit: limit, done: make(chan struct{})}
	pr.fetches.Add(1)
	go func() {
		defer pr.fetches.Done()
		defer close(f.done)
		f.page, f.err = r.src.Fetch(ctx, pr.peer, since, limit)
	}()
	return f
}

// peerRun is the state of one peer during a pass.
type peerRun struct {
	peer  peers.Peer
	pass  Pass
	mark  watermark.Mark
	st    watermark.State
	limit int
	rep   *PeerReport
	seen  map[string][]byte // id -> raw of the rows done on the previous page (its bytes, not a copy)
	size  sizing            // the peer's page cap and what fit under the body cap
	// fetches counts the page fetches under way, so that a pass never
	// returns with a request still running (abandoned prefetches included).
	fetches sync.WaitGroup
	// started and lastProgress pace Options.Progress.
	started, lastProgress time.Time
}

// drain pulls one peer until it is caught up, fails, stalls or the budget ends.
// Pages are pipelined: the next is fetched, from the cursor the current page
// will reach if every row lands, while the current one is written.
func (r *Runner) drain(ctx, budget context.Context, p peers.Peer, pass Pass) (rep PeerReport) {
	start := r.opt.Now()
	rep.Peer = p.ID
	defer func() { rep.DurationMs = r.opt.Now().Sub(start).Milliseconds() }()
	open, failures := r.checkBreaker(ctx, p, pass, &rep)
	if open {
		return rep
	}
	if budget.Err() != nil {
		// The run's time was spent before this peer's turn: not the peer's
		// fault, so neither a failure nor a breaker count.
		rep.Status, rep.Backlog = StatusMore, true
		rep.Error = "not reached: the run's time budget was spent before this peer's turn"
		if m, err := r.store.Watermark(ctx, p.ID); err == nil {
			rep.Watermark, rep.PrevWatermark = m.Value, m.Value
		}
		return rep
	}
	defer r.recordBreaker(ctx, pass, &rep, failures)
	pr, err := r.begin(ctx, p, pass, &rep)
	if err != nil {
		rep.fail(ClassState, fmt.Errorf("read watermark: %w", err))
		return rep
	}
	pctx, stop := context.WithCancel(budget)
	defer func() { stop(); pr.fetches.Wait() }()
	next := r.prefetch(pctx, pr, pr.st.Cursor, pr.limit)
	for next != nil {
		next = r.step(ctx, pctx, pr, next)
	}
	pr.finishReport()
	return rep
}

// begin reads where the peer stands.
func (r *Runner) begin(ctx context.Context, p peers.Peer, pass Pass, rep *PeerReport) (*peerRun, error) {
	pr := &peerRun{peer: p, pass: pass, limit: r.opt.PageLimit, rep: rep, started: r.opt.Now()}
	if pass.Range != nil {
		pr.st = watermark.State{Watermark: pass.Range.From, Cursor: pass.Range.From}
		return pr, nil
	}
	m, err := r.store.Watermark(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	pr.mark = m
	pr.st = watermark.State{Watermark: m.Value, Cursor: m.Value}
	rep.PrevWatermark = m.Value
	return pr, nil
}

// step handles one fetched page and returns the next fetch, or nil to stop.
func (r *Runner) step(ctx, pctx context.Context, pr *peerRun, f *fetched) *fetched {
	<-f.done
	f.cancel()
	rep := pr.rep
	if f.err != nil {
		if pctx.Err() != nil {
			// The budget ended while the page was in flight: the run's
			// time, not the peer, stopped it.
			rep.Status, rep.Backlog = StatusMore, true
			return nil
		}
		if errors.Is(f.err, peers.ErrTooLarge) {
			return r.shrink(pctx, pr, f)
		}
		var later *peers.RetryLaterError
		if errors.As(f.err, &later) {
			// The peer is shedding or backing off: not its failure, and
			// not ours; the next run after RetryAfter goes on.
			rep.Status, rep.Backlog = StatusMore, true
			rep.RetryAfter = later.At.UTC().Format(time.RFC3339)
			rep.Error = fmt.Sprintf("pull page %d: %v", rep.Pages+1, f.err)
			return nil
		}
		rep.keyRefused = errors.Is(f.err, peers.ErrUnauthorized)
		rep.fail(fetchClass(f.err), fmt.Errorf("pull page %d: %w", rep.Pages+1, f.err))
		return nil
	}
	page := f.page
	rep.Pages++
	pr.size.fitted(f.since, f.limit, page.Limit)
	now, skew := r.opt.Now(), r.opt.Skew
	var ahead *fetched
	if guess := watermark.Advance(pr.st, reduce(page, nil), now, skew); guess.Outcome == watermark.Continue && pctx.Err() == nil && !pr.pastRange(page) {
		ahead = r.prefetch(pctx, pr, guess.State.Cursor, pr.limit)
	}
	done := r.apply(ctx, pr, page)
	dec := watermark.Advance(pr.st, reduce(page, done), now, skew)
	err := r.commit(ctx, pr, dec)
	if ctx.Err() != nil {
		// The invocation's own deadline, not the peer, cut writes or the
		// watermark short: nothing is lost, the next run goes on from the
		// stored watermark.
		rep.Status, rep.Backlog, rep.ErrorClass = StatusMore, true, ""
		rep.Error = "the invocation's deadline cut this page short; the next run resumes it"
		return cancelled(ahead)
	}
	if err != nil {
		return cancelled(ahead)
	}
	r.progress(pr)
	return r.follow(pctx, pr, dec, page, ahead)
}

// follow decides what to pull after a page and sets the status when stopping.
func (r *Runner) follow(pctx context.Context, pr *peerRun, dec watermark.Decision, page *peers.Page, ahead *fetched) *fetched {
	rep := pr.rep
	switch dec.Outcome {
	case watermark.CaughtUp:
		rep.Status = StatusCaughtUp
	case watermark.Stalled:
		pr.stall(fmt.Sprintf("the peer caps pages at %d rows", page.Limit))
	case watermark.Blocked:
		rep.Status, rep.Backlog = StatusFailed, true
		rep.ErrorClass = ClassWrite
		rep.Error = fmt.Sprintf("%d rows not written; the watermark holds below the first", rep.Failed)
	case watermark.Widen, watermark.Continue:
		if pr.pastRange(page) {
			rep.Status = StatusCaughtUp
			return cancelled(ahead)
		}
		if pctx.Err() != nil {
			rep.Status, rep.Backlog = StatusMore, true
			return cancelled(ahead)
		}
		limit := r.opt.PageLimit
		if dec.Outcome == watermark.Widen {
			var why string
			if limit, why = pr.size.widen(page.Limit); why != "" {
				pr.stall(why)
				return cancelled(ahead)
			}
		}
		if ahead != nil && (ahead.since != pr.st.Cursor || ahead.limit != limit) {
			ahead = cancelled(ahead)
		}
		pr.limit = limit
		if ahead == nil {
			ahead = r.prefetch(pctx, pr, pr.st.Cursor, limit)
		}
		return ahead
	}
	return cancelled(ahead)
}

// stall stops the peer as stalled: a full page of one tie group cannot move
// the cursor, and no larger page can be had (why says which cap).
func (pr *peerRun) stall(why string) {
	pr.rep.Status, pr.rep.Backlog = StatusStalled, true
	pr.rep.Error = fmt.Sprintf("a full page of %d rows at one updated_at cannot advance the cursor %q: %s",
		pr.limit, pr.st.Cursor, why)
}

// shrink answers a page over the body cap: ask again at a size between the
// last page that fit and this one, or stop when there is none.
func (r *Runner) shrink(pctx context.Context, pr *peerRun, f *fetched) *fetched {
	next, ok := pr.size.tooLarge(f.since, f.limit)
	switch {
	case ok:
		pr.limit = next
		return r.prefetch(pctx, pr, pr.st.Cursor, next)
	case pr.size.fit > 0:
		pr.limit = pr.size.fit
		pr.stall(fmt.Sprintf("a page of %d rows fits under MAX_RESPONSE_BYTES but one of %d does not; raise MAX_RESPONSE_BYTES", pr.size.fit, pr.size.over))
	default:
		pr.rep.fail(ClassBadResponse, fmt.Errorf("pull page %d: one row from since %q does not fit under MAX_RESPONSE_BYTES; raise it: %w",
			pr.rep.Pages+1, pr.st.Cursor, f.err))
	}
	return nil
}

// commit stores the watermark when the page moved it, and adopts the new state.
func (r *Runner) commit(ctx context.Context, pr *peerRun, dec watermark.Decision) error {
	if dec.Advanced && pr.pass.Range == nil && !pr.pass.DryRun {
		err := r.store.AdvanceWatermark(ctx, pr.peer.ID, pr.mark, dec.State.Watermark)
		switch {
		case errors.Is(err, replica.ErrConflict):
			pr.rep.Status, pr.rep.Backlog = StatusMore, true
			pr.rep.Error = "another run or a reset moved the watermark; stopped this peer"
			return err
		case err != nil:
			pr.rep.fail(ClassState, fmt.Errorf("write watermark: %w", err))
			return err
		}
		pr.mark.Value = dec.State.Watermark
	}
	pr.st = dec.State
	return nil
}

// pastRange reports whether a backfill page reached the end of its range.
func (pr *peerRun) pastRange(page *peers.Page) bool {
	if pr.pass.Range == nil || pr.pass.Range.To == "" {
		return false
	}
	for _, row := range page.Rows {
		if row.UpdatedAt >= pr.pass.Range.To {
			return true
		}
	}
	return false
}

func (pr *peerRun) finishReport() {
	pr.rep.Watermark = pr.mark.Value
	if pr.pass.Range != nil || pr.pass.DryRun {
		pr.rep.Watermark = pr.st.Watermark
	}
	if pr.st.Cursor != pr.rep.Watermark {
		pr.rep.Cursor = pr.st.Cursor
	}
}

// cancelled abandons a prefetch, if any, and returns nil.
func cancelled(f *fetched) *fetched {
	if f != nil {
		f.cancel()
	}
	return nil
}

// reduce maps a page to what the watermark rules need; done nil means every
// row is assumed done (the guess that drives prefetching).
func reduce(p *peers.Page, done []bool) watermark.Page {
	rows := make([]watermark.Row, len(p.Rows))
	for i, row := range p.Rows {
		rows[i] = watermark.Row{UpdatedAt: row.UpdatedAt, Done: done == nil || done[i]}
	}
	return watermark.Page{Rows: rows, Examined: p.Examined(), Limit: p.Limit, NextSince: p.NextSince}
}

func fetchClass(err error) string {
	switch {
	case errors.Is(err, peers.ErrUntrusted):
		return ClassUntrusted
	case errors.Is(err, peers.ErrRejected):
		return ClassRejected
	case errors.Is(err, peers.ErrBadResponse):
		return ClassBadResponse
	}
	return ClassUnreachable
}
