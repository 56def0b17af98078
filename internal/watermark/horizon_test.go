package watermark

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// filtered is a full page whose every row the server cut after the LIMIT.
func filtered(limit int) Page { return Page{Examined: limit, Limit: limit} }

// Rule 5: next_since (§7: every row filtered out; next_since in the year 9999).
func TestAdvanceNextSince(t *testing.T) {
	runAdvanceCases(t, []advanceCase{
		{"§7: all rows filtered, next_since moves past them", at(t0), withNext(filtered(4), t3),
			Decision{at(t3), true, Continue}},
		{"§7: all rows filtered, no next_since: widen", at(t0), filtered(4),
			Decision{at(t0), false, Widen}},
		{"all rows filtered at MaxLimit, no next_since: stalled", at(t0), filtered(MaxLimit),
			Decision{at(t0), false, Stalled}},
		{"all rows filtered on a partial page", at(t0),
			withNext(Page{Examined: 3, Limit: 4}, t3),
			Decision{at(t3), true, CaughtUp}},
		{"first pull, all rows filtered", at(""), withNext(filtered(4), t3),
			Decision{at(t3), true, Continue}},
		{"§7: next_since in the year 9999 is refused", at(t0), withNext(filtered(4), y9999),
			Decision{at(t0), false, Widen}},
		{"next_since in the year 9999 falls back to the rows", at(t0),
			withNext(full(d(t1), d(t2)), y9999),
			Decision{at(t1), true, Continue}},
		{"next_since at exactly now + skew", at(t0), withNext(filtered(4), edge),
			Decision{at(edge), true, Continue}},
		{"next_since 1ns beyond now + skew", at(t0), withNext(filtered(4), beyond),
			Decision{at(t0), false, Widen}},
		{"next_since not parsable", at(t0), withNext(filtered(4), "2026-06-01T10:00:03"),
			Decision{at(t0), false, Widen}},
		{"next_since that is prose", at(t0), withNext(partial(d(t1)), "tomorrow"),
			Decision{at(t1), true, CaughtUp}},
		{"next_since equal to the cursor", at(t3), withNext(filtered(4), t3),
			Decision{at(t3), false, Widen}},
		{"next_since below the cursor", at(t3), withNext(filtered(4), t2),
			Decision{at(t3), false, Widen}},
		{"next_since a later instant but smaller text", at(t5), withNext(filtered(4), t5half),
			Decision{at(t5), false, Widen}},
		{"next_since on a page with a failure", at(t0), withNext(partial(d(t1), f(t2)), t5),
			Decision{at(t1), true, Blocked}},
		{"next_since on a full page with a failure", at(t0), withNext(full(f(t1), d(t2)), t3),
			Decision{at(t0), false, Blocked}},
		{"next_since below the best row", at(t0), withNext(partial(d(t1), d(t3)), t2),
			Decision{at(t3), true, CaughtUp}},
		{"next_since past a full page's cut group", at(t0), withNext(full(d(t1), d(t2), d(t2)), t3),
			Decision{at(t3), true, Continue}},
		{"next_since in lower case", at(t0), withNext(filtered(4), "2026-06-01t10:00:03z"),
			Decision{at("2026-06-01t10:00:03z"), true, Continue}},
		{"next_since past a future-dated row is not stored", at(t0),
			withNext(partial(d(t1), d(future1)), pastAfter),
			Decision{State{t1, pastAfter, true}, true, CaughtUp}},
	})
}

// Rule 6: never backward, never past now + skew, and the cursor running
// ahead of the watermark past rows a peer dated in the future.
func TestAdvanceHorizon(t *testing.T) {
	runAdvanceCases(t, []advanceCase{
		{"never backward over rows below the watermark", at(t3), partial(d(t1), d(t2)),
			Decision{at(t3), false, CaughtUp}},
		{"never backward over a full page below the watermark", at(t3), full(d(t1), d(t2), d(t2)),
			Decision{at(t3), false, Widen}},
		{"a row at exactly now + skew is stored", at(t0), partial(d(t1), d(edge)),
			Decision{at(edge), true, CaughtUp}},
		{"a row 1ns beyond now + skew moves only the cursor", at(t0), partial(d(t1), d(beyond)),
			Decision{State{t1, beyond, true}, true, CaughtUp}},
		{"a future-dated row moves only the cursor", at(t0), partial(d(t1), d(future1)),
			Decision{State{t1, future1, true}, true, CaughtUp}},
		{"only a future-dated row", at(t0), partial(d(future1)),
			Decision{State{t0, future1, true}, false, CaughtUp}},
		{"a storable row sorting after a future-dated row is not stored", at(t0),
			partial(d(t1), d(pastAfter), d(future1)),
			Decision{State{t1, pastAfter, true}, true, CaughtUp}},
		{"a future-dated row on a full page", at(t0), full(d(t1), d(future1), d(future2)),
			Decision{State{t1, future1, true}, true, Continue}},
		{"a future-dated row before a failure", at(t0), partial(d(t1), d(future1), f(future2)),
			Decision{State{t1, future1, true}, true, Blocked}},
		{"a failed future-dated row", at(t0), partial(d(t1), f(future1)),
			Decision{at(t1), true, Blocked}},
		{"cursor ahead: the watermark holds over future rows", State{t1, future1, true}, partial(d(future2)),
			Decision{State{t1, future2, true}, false, CaughtUp}},
		{"cursor ahead: the watermark holds over storable rows", State{t1, future1, true}, partial(d(pastAfter)),
			Decision{State{t1, pastAfter, true}, false, CaughtUp}},
		{"cursor ahead: the watermark holds over next_since", State{t1, future1, true},
			withNext(filtered(4), pastAfter),
			Decision{State{t1, pastAfter, true}, false, Continue}},
		{"a quarantined last row is passed but is never the cursor", at(t0), partial(d(t1), d(junk)),
			Decision{at(t1), true, CaughtUp}},
		{"a full page ending in a quarantined row advances below it", at(t0), full(d(t1), d(t2), d(junk)),
			Decision{at(t2), true, Continue}},
	})
}

// TestAdvanceAcrossPages follows one run through pages: the cursor passes
// future-dated rows, the stored watermark waits below them, and the next run
// starts again from it.
func TestAdvanceAcrossPages(t *testing.T) {
	// late sorts after pastAfter; it is now, as an instant.
	const late = "2026-06-01T14:00:00+02:00"
	steps := []struct {
		page Page
		want Decision
	}{
		{full(d(t1), d(t2), d(future1), d(future2)),
			Decision{State{t2, future1, true}, true, Continue}},
		// Two rows at late were filtered; next_since is below their group.
		{withNext(Page{Rows: []Row{d(pastAfter), d(future2)}, Examined: 4, Limit: 4}, pastAfter),
			Decision{State{t2, pastAfter, true}, false, Continue}},
		{withNext(Page{Examined: 2, Limit: 4}, late),
			Decision{State{t2, late, true}, false, CaughtUp}},
	}
	st := at(t0)
	for i, s := range steps {
		got := Advance(st, s.page, now, skew)
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Fatalf("page %d (-want +got):\n%s", i+1, diff)
		}
		checkInvariants(t, st, s.page, now, skew, got)
		st = got.State
	}
	// The next run starts from the stored watermark and sees the rows again.
	again := withNext(Page{Rows: []Row{d(future1), d(pastAfter), d(future2)}, Examined: 5, Limit: 100}, late)
	got := Advance(at(st.Watermark), again, now, skew)
	want := Decision{State{t2, late, true}, false, CaughtUp}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("next run (-want +got):\n%s", diff)
	}
	// Once the clock has passed them, the same rows are stored.
	later := now.Add(2 * time.Hour)
	got = Advance(at(t2), again, later, skew)
	want = Decision{at(late), true, CaughtUp}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("two hours later (-want +got):\n%s", diff)
	}
}

// TestWidenThenStall asks a peer holding one tie group larger than MaxLimit
// with ever larger limits, as a caller following the outcomes would.
func TestWidenThenStall(t *testing.T) {
	group := make([]Row, MaxLimit+1)
	for i := range group {
		group[i] = d(t2)
	}
	var limits []int
	st, limit := at(t0), DefaultLimit
	for range 20 {
		limits = append(limits, limit)
		n := min(limit, len(group))
		dec := Advance(st, Page{Rows: group[:n], Examined: n, Limit: limit}, now, skew)
		if dec.State != st || dec.Advanced {
			t.Fatalf("limit %d moved %+v to %+v", limit, st, dec.State)
		}
		if dec.Outcome == Stalled {
			break
		}
		if dec.Outcome != Widen {
			t.Fatalf("limit %d: outcome %v, want widen", limit, dec.Outcome)
		}
		limit = NextLimit(limit)
	}
	want := []int{500, 1000, 2000, 4000, 8000, MaxLimit}
	if diff := cmp.Diff(want, limits); diff != "" {
		t.Errorf("limits asked (-want +got):\n%s", diff)
	}
}

// Rule 5's bound on next_since is the configured skew, not a fixed 5 minutes:
// with CLOCK_SKEW=0s a next_since 1s ahead is refused, with 1h one 30m ahead
// is taken.
func TestNextSinceBoundIsTheSkew(t *testing.T) {
	ahead := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }
	tests := []struct {
		skew time.Duration
		ns   string
		want Decision
	}{
		{0, ahead(0), Decision{at(ahead(0)), true, Continue}},
		{0, ahead(time.Second), Decision{at(t0), false, Widen}},
		{time.Second, ahead(2 * time.Second), Decision{at(t0), false, Widen}},
		{time.Hour, ahead(30 * time.Minute), Decision{at(ahead(30 * time.Minute)), true, Continue}},
		{time.Hour, ahead(time.Hour + time.Nanosecond), Decision{at(t0), false, Widen}},
	}
	for _, tt := range tests {
		got := Advance(at(t0), withNext(filtered(4), tt.ns), now, tt.skew)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("skew %v, next_since %s (-want +got):\n%s", tt.skew, tt.ns, diff)
		}
		checkInvariants(t, at(t0), withNext(filtered(4), tt.ns), now, tt.skew, got)
	}
}
