package watermark

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/stamp"
)

// checkInvariants checks what must hold of any Decision, whatever the page:
// it is shared by the table, property and fuzz tests. It restates the
// contract rather than the algorithm.
func checkInvariants(t *testing.T, st State, p Page, now time.Time, skew time.Duration, got Decision) {
	t.Helper()
	horizon := now.Add(skew)
	w, c := got.State.Watermark, got.State.Cursor
	if w < st.Watermark || c < st.Cursor {
		t.Errorf("moved backward: %+v -> %+v", st, got.State)
	}
	if got.Advanced != (w != st.Watermark) {
		t.Errorf("Advanced = %v, watermark %q -> %q", got.Advanced, st.Watermark, w)
	}
	if st.Watermark <= st.Cursor && w > c {
		t.Errorf("watermark %q passed the cursor %q", w, c)
	}
	blocked := slices.ContainsFunc(p.Rows, func(r Row) bool { return !r.Done })
	if blocked != (got.Outcome == Blocked) {
		t.Errorf("outcome %v, a row not done: %v", got.Outcome, blocked)
	}
	if c != st.Cursor {
		checkMove(t, "cursor", c, p, horizon)
	}
	if w == st.Watermark {
		return
	}
	checkMove(t, "watermark", w, p, horizon)
	if st.Held {
		t.Errorf("watermark moved to %q while held (the cursor %q passed a future-dated row)", w, st.Cursor)
	}
	if !inTime(w, horizon) {
		t.Errorf("watermark %q does not parse or is after now + skew %v", w, horizon)
	}
	for _, r := range p.Rows {
		if r.UpdatedAt > st.Watermark && r.UpdatedAt <= w && dated(r.UpdatedAt, horizon) {
			t.Errorf("watermark %q passed the future-dated row %q", w, r.UpdatedAt)
		}
	}
}

// checkMove checks a value the cursor or watermark moved to: taken from the
// page, below every row not done, and below the last row of a full page
// unless it is a usable next_since.
func checkMove(t *testing.T, what, v string, p Page, horizon time.Time) {
	t.Helper()
	fromNext := v == p.NextSince && inTime(v, horizon)
	fromRow := slices.ContainsFunc(p.Rows, func(r Row) bool { return r.Done && r.UpdatedAt == v })
	if !fromNext && !fromRow {
		t.Errorf("%s moved to %q, neither a done row nor a usable next_since", what, v)
	}
	if _, err := stamp.Parse(v); err != nil {
		t.Errorf("%s moved to %q, which the peer would refuse as since: %v", what, v, err)
	}
	for _, r := range p.Rows {
		if !r.Done && v >= r.UpdatedAt {
			t.Errorf("%s %q reached the row not done %q", what, v, r.UpdatedAt)
		}
	}
	if fromNext || !pageFull(p) || len(p.Rows) == 0 {
		return
	}
	last := slices.MaxFunc(p.Rows, func(a, b Row) int { return strings.Compare(a.UpdatedAt, b.UpdatedAt) })
	if v >= last.UpdatedAt {
		t.Errorf("%s %q reached the last row %q of a full page", what, v, last.UpdatedAt)
	}
}

// pageFull restates the documented meaning of a full page.
func pageFull(p Page) bool {
	examined := max(p.Examined, len(p.Rows))
	if p.Limit <= 0 {
		return examined > 0
	}
	return examined >= p.Limit
}

// inTime reports that s parses and is no later than the horizon.
func inTime(s string, horizon time.Time) bool {
	ts, err := stamp.Parse(s)
	return err == nil && !ts.After(horizon)
}

// dated reports that s parses and is later than the horizon.
func dated(s string, horizon time.Time) bool {
	ts, err := stamp.Parse(s)
	return err == nil && ts.After(horizon)
}

func TestAdvanceLeavesRowsAlone(t *testing.T) {
	rows := []Row{d(t3), f(t2), d(t1), d(t2)}
	keep := slices.Clone(rows)
	Advance(at(t0), partial(rows...), now, skew)
	if diff := cmp.Diff(keep, rows); diff != "" {
		t.Errorf("Advance changed the caller's rows (-before +after):\n%s", diff)
	}
}

// TestAdvanceOrderDoesNotMatter: the server returns ties in any order, so the
// order of the caller's slice must not change the decision.
func TestAdvanceOrderDoesNotMatter(t *testing.T) {
	rows := []Row{d(t1), d(t2), f(t2), d(t3), d(junk), d(future1)}
	want := Advance(at(t0), partial(rows...), now, skew)
	for i := range rows {
		for j := range rows {
			perm := slices.Clone(rows)
			perm[i], perm[j] = perm[j], perm[i]
			if got := Advance(at(t0), partial(perm...), now, skew); got != want {
				t.Fatalf("order %v: got %+v, want %+v", perm, got, want)
			}
		}
	}
}

func TestNextLimit(t *testing.T) {
	tests := []struct{ in, want int }{
		{math.MinInt, 1000},
		{-1, 1000},
		{0, 1000},
		{1, 2},
		{250, 500},
		{DefaultLimit, 1000},
		{4999, 9998},
		{5000, MaxLimit},
		{6000, MaxLimit},
		{MaxLimit, MaxLimit},
		{MaxLimit + 1, MaxLimit},
		{math.MaxInt, MaxLimit},
	}
	for _, tt := range tests {
		if got := NextLimit(tt.in); got != tt.want {
			t.Errorf("NextLimit(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	want := map[Outcome]string{
		CaughtUp: "caught_up", Continue: "continue", Widen: "widen",
		Stalled: "stalled", Blocked: "blocked", Outcome(99): "unknown",
	}
	for o, s := range want {
		if got := o.String(); got != s {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), got, s)
		}
	}
}
