package watermark

import (
	"slices"
	"strings"
	"time"

	"github.com/aimemory/catchup/internal/stamp"
)

// Advance applies docs/protocol.md §4 to one page fetched from st.Cursor and
// returns the new state. now and skew bound how far into the future a
// watermark may go (rule 6); skew also bounds an acceptable next_since (rule 5).
//
// The rows are ordered byte-wise by UpdatedAt, stable, on a copy (p.Rows is
// not modified). A value is a candidate to move to when it is:
//
//   - the UpdatedAt, if it parses, of a done row before the first not-done row, strictly
//     below that row's UpdatedAt (rule 3: a failure blocks its whole tie
//     group and all after it);
//   - on a full page, also strictly below the page's largest UpdatedAt
//     (rule 4: the LIMIT may have cut that tie group);
//   - or, on a page with no not-done row, p.NextSince when stamp.Parse accepts
//     it, it is no later than now + skew, and it is byte-wise after st.Cursor
//     (rule 5).
//
// The new Cursor is the byte-wise largest of st.Cursor and the candidates.
// The new Watermark is the largest of st.Watermark and the candidates that
// parse, are no later than now + skew, and are byte-wise below the first done
// row dated beyond now + skew; once the Cursor has passed such a row, Held is
// set and the Watermark stays put for the rest of the run (rule 6). Neither ever moves backward, and Watermark never takes an
// UpdatedAt that does not parse, such as the "" of a row that lacked one.
//
// A page is full when max(p.Examined, len(p.Rows)) >= p.Limit; when p.Limit
// <= 0 (unknown) a page is full unless it examined nothing, which can only
// err towards not advancing.
//
// The Outcome is Blocked when any row is not done; else CaughtUp when the page
// is not full; else Continue when the Cursor moved; else Widen, or Stalled
// when p.Limit is already at least MaxLimit.
func Advance(st State, p Page, now time.Time, skew time.Duration) Decision {
	v := newView(p)
	horizon := now.Add(skew)
	cands := v.candidates()
	if v.clean() && p.NextSince > st.Cursor {
		if at, err := stamp.Parse(p.NextSince); err == nil && !at.After(horizon) {
			cands = append(cands, candidate{p.NextSince, at})
		}
	}
	next := State{Watermark: st.Watermark, Cursor: largest(st.Cursor, cands), Held: st.Held}
	if !st.Held {
		b := v.barrier(horizon)
		next.Watermark = largest(st.Watermark, durable(cands, b, horizon))
		next.Held = b != nil && next.Cursor >= *b
	}
	return Decision{
		State:    next,
		Advanced: next.Watermark != st.Watermark,
		Outcome:  v.outcome(st.Cursor, next.Cursor),
	}
}

// NextLimit is the limit to ask for after Widen: double, at most MaxLimit.
// A limit <= 0 stands for the peer's default, DefaultLimit, so the result is
// always larger than the page that could not advance, unless that page was
// already MaxLimit.
func NextLimit(limit int) int {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit >= MaxLimit/2 {
		return MaxLimit
	}
	return 2 * limit
}

// view is a page ordered as the server orders it, with what the rules derive.
type view struct {
	rows  []Row     // sorted byte-wise by UpdatedAt, stable
	at    []instant // at[i] is rows[i].UpdatedAt parsed, for the done rows
	k     int       // index of the first not-done row, len(rows) when none
	full  bool
	limit int
}

// instant is an UpdatedAt parsed once, for every rule that reads its time.
type instant struct {
	t      time.Time
	parses bool
}

// candidate is a value the cursor and the watermark may move to; every
// candidate parses (at is its time).
type candidate struct {
	s  string
	at time.Time
}

func newView(p Page) view {
	rows := slices.Clone(p.Rows)
	slices.SortStableFunc(rows, func(a, b Row) int { return strings.Compare(a.UpdatedAt, b.UpdatedAt) })
	k := slices.IndexFunc(rows, func(r Row) bool { return !r.Done })
	if k < 0 {
		k = len(rows)
	}
	at := make([]instant, k)
	for i, r := range rows[:k] {
		t, err := stamp.Parse(r.UpdatedAt)
		at[i] = instant{t, err == nil}
	}
	return view{rows: rows, at: at, k: k, full: isFull(p), limit: p.Limit}
}

func isFull(p Page) bool {
	examined := max(p.Examined, len(p.Rows))
	if p.Limit <= 0 {
		return examined > 0
	}
	return examined >= p.Limit
}

// clean reports that every row of the page is done.
func (v view) clean() bool { return v.k == len(v.rows) }

// candidates are the UpdatedAt values of rules 3 and 4, ascending. A value
// that does not parse is never one: the peer parses `since` and answers 400
// to it, so even the cursor must not take it (the row is quarantined, done,
// and passed by the next value that parses).
func (v view) candidates() []candidate {
	done := v.rows[:v.k]
	end := len(done)
	if bound, ok := v.bound(); ok {
		end, _ = slices.BinarySearchFunc(done, bound, func(r Row, b string) int {
			return strings.Compare(r.UpdatedAt, b)
		})
	}
	out := make([]candidate, 0, end)
	for i, r := range done[:end] {
		if v.at[i].parses {
			out = append(out, candidate{r.UpdatedAt, v.at[i].t})
		}
	}
	return out
}

// bound is the value every row candidate must be strictly below: the first
// not-done row (rule 3), else on a full page the largest row (rule 4).
func (v view) bound() (string, bool) {
	switch {
	case !v.clean():
		return v.rows[v.k].UpdatedAt, true
	case v.full && len(v.rows) > 0:
		return v.rows[len(v.rows)-1].UpdatedAt, true
	}
	return "", false
}

// barrier is the first done row dated beyond the horizon, if any: a stored
// watermark must stay below it.
func (v view) barrier(horizon time.Time) *string {
	for i, r := range v.rows[:v.k] {
		if v.at[i].parses && v.at[i].t.After(horizon) {
			return &r.UpdatedAt
		}
	}
	return nil
}

func (v view) outcome(from, to string) Outcome {
	switch {
	case !v.clean():
		return Blocked
	case !v.full:
		return CaughtUp
	case to > from:
		return Continue
	case v.limit < MaxLimit:
		return Widen
	}
	return Stalled
}

// durable keeps the candidates a stored watermark may take (rule 6): no
// later than the horizon, and below the barrier.
func durable(cands []candidate, barrier *string, horizon time.Time) []candidate {
	var out []candidate
	for _, c := range cands {
		if !c.at.After(horizon) && (barrier == nil || c.s < *barrier) {
			out = append(out, c)
		}
	}
	return out
}

// largest is the byte-wise maximum of from and cands.
func largest(from string, cands []candidate) string {
	for _, c := range cands {
		from = max(from, c.s)
	}
	return from
}
