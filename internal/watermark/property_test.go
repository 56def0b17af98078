package watermark

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"
)

// Each universe runs as a subtest named after its seed, so a failure names
// the seed; rerun one with -run 'TestPropertyRuns/seed=N$'.
const universes = 2000

func forSeeds(t *testing.T, n int, body func(t *testing.T, seed uint64)) {
	t.Helper()
	for seed := uint64(1); seed <= uint64(n); seed++ {
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { body(t, seed) })
		if !ok {
			return // one reproducible failure is enough
		}
	}
}

// simRun drives a simulated peer as the caller does: runs that start from
// the stored watermark and pull pages until the outcome says stop.
type simRun struct {
	t      *testing.T
	peer   *simPeer
	stored string
	base   int // the configured page limit
	pages  int // in all runs so far
}

func newSimRun(t *testing.T, seed uint64) *simRun {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	return &simRun{t: t, peer: newSimPeer(rng, now), base: 1 + rng.IntN(12)}
}

// run pulls at most budget pages; done is false when the budget ran out.
func (r *simRun) run(budget int) (last Outcome, done bool) {
	st, limit := at(r.stored), r.base
	for range budget {
		a := r.peer.fetch(st.Cursor, limit)
		r.pages++
		dec := Advance(st, a.page, r.peer.now, skew)
		checkInvariants(r.t, st, a.page, r.peer.now, skew, dec)
		r.checkUniverse(st, a, dec)
		if r.t.Failed() {
			r.t.FailNow()
		}
		st, r.stored = dec.State, dec.State.Watermark
		switch dec.Outcome {
		case Continue:
			limit = r.base
		case Widen:
			limit = NextLimit(limit)
		default:
			return dec.Outcome, true
		}
	}
	return Continue, false
}

// checkUniverse checks a decision against what only the peer knows.
func (r *simRun) checkUniverse(st State, a answer, dec Decision) {
	t, s := r.t, r.peer
	horizon := s.now.Add(skew)
	w, c := dec.State.Watermark, dec.State.Cursor
	for i, row := range s.rows {
		if !row.visible {
			continue
		}
		if !s.done[i] && w != "" && row.at <= w {
			t.Errorf("watermark %q passed row %d %q, which is not done", w, i, row.at)
		}
		if !s.done[i] && c != "" && row.at <= c {
			t.Errorf("cursor %q passed row %d %q, which is not done", c, i, row.at)
		}
		if row.at > st.Watermark && row.at <= w && dated(row.at, horizon) {
			t.Errorf("watermark %q passed row %d %q, dated after now + skew", w, i, row.at)
		}
	}
	if a.page.Examined == a.page.Limit && a.last != "" && c >= a.last {
		t.Errorf("cursor %q reached %q, the last value of a full page", c, a.last)
	}
}

// randomWatermark is one a previous run could have stored: a value of the
// universe, or an instant between its rows, that parses and is not ahead.
func (r *simRun) randomWatermark() string {
	s := r.peer
	w := spell(s.rng, s.now.Add(-time.Duration(s.rng.IntN(700))*time.Second))
	if s.rng.IntN(2) == 0 {
		w = s.rows[s.rng.IntN(len(s.rows))].at
	}
	if !inTime(w, s.now.Add(skew)) {
		return ""
	}
	return w
}

// resumeFrom stores w as if earlier runs had replicated every row up to it.
func (r *simRun) resumeFrom(w string) {
	r.stored = w
	for i, row := range r.peer.rows {
		if w != "" && row.at <= w {
			r.peer.done[i] = true
		}
	}
}

// caughtUpMeansDone: a run that ends caught up has every visible row done.
func (r *simRun) caughtUpMeansDone() {
	for i, row := range r.peer.rows {
		if row.visible && !r.peer.done[i] {
			r.t.Fatalf("caught up with row %d %q not done", i, row.at)
		}
	}
}

// TestPropertyRuns: random universes, random failures, runs of random
// length; after every page no row that is not done is behind the watermark
// or the cursor, the watermark never moves backward nor past a future-dated
// row, and a full page never reaches the value its LIMIT may have cut.
func TestPropertyRuns(t *testing.T) {
	forSeeds(t, universes, func(t *testing.T, seed uint64) {
		r := newSimRun(t, seed)
		r.peer.failRate = pick(r.peer.rng, 0, 0.02, 0.1, 0.5)
		if r.peer.rng.IntN(2) == 0 {
			r.resumeFrom(r.randomWatermark())
		}
		for range 30 {
			last, done := r.run(1 + r.peer.rng.IntN(20))
			if done && last == CaughtUp {
				r.caughtUpMeansDone()
			}
		}
	})
}

// TestPropertyDrain: with no failures, one run sees every visible row in a
// bounded number of pages and ends caught up; runs cut short by a page
// budget resume where the last one stored its watermark.
func TestPropertyDrain(t *testing.T) {
	forSeeds(t, universes, func(t *testing.T, seed uint64) {
		r := newSimRun(t, seed)
		s := r.peer
		// Each step moves the cursor to a larger value, or doubles the limit
		// until it covers the universe.
		widens := bits.Len(uint(len(s.rows))) + 1
		bound := (s.distinct() + 1) * (widens + 1)
		// A run long enough to widen past any stretch of filtered rows makes
		// progress; a run that held its watermark back must reach the end.
		budget := bound
		if !r.holdsBack() {
			budget = widens + 1 + s.rng.IntN(8)
		}
		last, done := Continue, false
		for r.pages <= bound && !done {
			last, done = r.run(budget)
		}
		if !done || last != CaughtUp {
			t.Fatalf("after %d pages (bound %d): outcome %v, finished %v", r.pages, bound, last, done)
		}
		for i, row := range s.rows {
			if row.visible && !s.seen[i] {
				t.Fatalf("row %d %q never seen", i, row.at)
			}
		}
		r.checkSecondRun(bound)
	})
}

// holdsBack reports a visible row that cannot be a watermark (dated in the
// future, or not parsable): runs then hold their watermark below it.
func (r *simRun) holdsBack() bool {
	for _, row := range r.peer.rows {
		if row.visible && !inTime(row.at, r.peer.now.Add(skew)) {
			return true
		}
	}
	return false
}

// checkSecondRun: a run right after a drain ends caught up and, unless a
// row held the watermark back, sees no visible row again.
func (r *simRun) checkSecondRun(bound int) {
	before := r.pages
	seen := r.peer.seen
	r.peer.seen = make([]bool, len(r.peer.rows))
	defer func() { r.peer.seen = seen }()
	last, done := r.run(bound)
	if !done || last != CaughtUp {
		r.t.Fatalf("second run: outcome %v, finished %v after %d pages", last, done, r.pages-before)
	}
	if r.holdsBack() {
		return
	}
	for i, again := range r.peer.seen {
		if again {
			r.t.Fatalf("second run saw row %d %q again (stored %q)", i, r.peer.rows[i].at, r.stored)
		}
	}
}
