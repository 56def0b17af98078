package watermark

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The clock of every table test: rows up to now + skew may be stored.
var (
	now  = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	skew = 5 * time.Minute
)

const (
	t0 = "2026-06-01T10:00:00Z"
	t1 = "2026-06-01T10:00:01Z"
	t2 = "2026-06-01T10:00:02Z"
	t3 = "2026-06-01T10:00:03Z"
	t5 = "2026-06-01T10:00:05Z"
	// t5half is a later instant than t5 that sorts before it as text (§3).
	t5half = "2026-06-01T10:00:05.5+00:00"
	// t5plus is t5's instant spelt another way; as text it is another value.
	t5plus = "2026-06-01T10:00:05+00:00"
	// junk is a quarantined row's updated_at: it sorts between t2 and t3
	// but does not parse.
	junk = "2026-06-01T10:00:02Zjunk"
	// future1 and future2 are an hour past now: a peer whose clock runs ahead.
	future1 = "2026-06-01T13:00:00Z"
	future2 = "2026-06-01T13:00:01Z"
	// pastAfter sorts after future1 as text but is 11:30Z, in the past.
	pastAfter = "2026-06-01T13:30:00+02:00"
	// edge is exactly now + skew: still storable. beyond is 1ns later.
	edge   = "2026-06-01T12:05:00Z"
	beyond = "2026-06-01T12:05:00.000000001Z"
	y9999  = "9999-12-31T23:59:59Z"
)

func d(at string) Row { return Row{UpdatedAt: at, Done: true} }
func f(at string) Row { return Row{UpdatedAt: at, Done: false} }

// at is the state at the start of a run from a stored watermark.
func at(w string) State { return State{Watermark: w, Cursor: w} }

// partial is a page that examined fewer rows than its limit.
func partial(rows ...Row) Page { return Page{Rows: rows, Examined: len(rows), Limit: 100} }

// full is a page whose every examined row is visible and that hit its limit.
func full(rows ...Row) Page { return Page{Rows: rows, Examined: len(rows), Limit: len(rows)} }

func withNext(p Page, ns string) Page { p.NextSince = ns; return p }

type advanceCase struct {
	name string
	st   State
	page Page
	want Decision
}

func runAdvanceCases(t *testing.T, cases []advanceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Advance(tc.st, tc.page, now, skew)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Advance(%+v, %+v) (-want +got):\n%s", tc.st, tc.page, diff)
			}
			checkInvariants(t, tc.st, tc.page, now, skew, got)
		})
	}
}

// Rules 1 to 3 of docs/protocol.md §4: byte-wise order, done rows, and the first
// not-done row (§7: advancing past a failure; a failure tying a success).
func TestAdvanceDoneAndFailed(t *testing.T) {
	runAdvanceCases(t, []advanceCase{
		{"rows in any order are sorted", at(t0), partial(d(t3), d(t1), d(t2)),
			Decision{at(t3), true, CaughtUp}},
		{"first pull without since", at(""), partial(d(t2), d(t1)),
			Decision{at(t2), true, CaughtUp}},
		{"§7: a failed row is never passed", at(t0), partial(d(t1), f(t2), d(t3)),
			Decision{at(t1), true, Blocked}},
		{"a failure listed last still blocks", at(t0), partial(d(t3), d(t1), f(t2)),
			Decision{at(t1), true, Blocked}},
		{"a failure on the first row holds everything", at(t0), partial(f(t1), d(t2), d(t3)),
			Decision{at(t0), false, Blocked}},
		{"§7: a failure tying the last success", at(t0), partial(d(t1), d(t2), f(t2)),
			Decision{at(t1), true, Blocked}},
		{"a failure tying the last success, listed first", at(t0), partial(d(t1), f(t2), d(t2), d(t3)),
			Decision{at(t1), true, Blocked}},
		{"a tie group with one failure", at(t0), partial(d(t2), f(t2), d(t2)),
			Decision{at(t0), false, Blocked}},
		{"every row failed", at(t0), partial(f(t1), f(t2)),
			Decision{at(t0), false, Blocked}},
		{"a quarantined row is done and passed", at(t0), partial(d(t1), d(junk), d(t3)),
			Decision{at(t3), true, CaughtUp}},
		{"a quarantined row before a failure is never the cursor", at(t0), partial(d(t1), d(junk), f(t3)),
			Decision{at(t1), true, Blocked}},
		{"a row without updated_at sorts first", at(""), partial(d(t1), d("")),
			Decision{at(t1), true, CaughtUp}},
		{"only rows without updated_at", at(""), partial(d(""), d("")),
			Decision{at(""), false, CaughtUp}},
		{"a failed row without updated_at blocks all", at(""), partial(d(t1), f("")),
			Decision{at(""), false, Blocked}},
	})
}

// Rule 4: a full page may end inside a tie group (§7: advancing to the last
// row of a full page that cut a tie group).
func TestAdvanceFullPage(t *testing.T) {
	runAdvanceCases(t, []advanceCase{
		{"§7: a full page that cut a tie group", at(t0), full(d(t1), d(t3), d(t2), d(t3)),
			Decision{at(t2), true, Continue}},
		{"a full page never reaches its last row", at(t0), full(d(t1), d(t2), d(t3)),
			Decision{at(t2), true, Continue}},
		{"§7: a full page of one tie group widens", at(t0), full(d(t2), d(t2), d(t2)),
			Decision{at(t0), false, Widen}},
		{"a full page of one row widens", at(t0), full(d(t2)),
			Decision{at(t0), false, Widen}},
		{"one tie group above half of MaxLimit still widens", at(t0),
			Page{Rows: []Row{d(t2), d(t2)}, Examined: 6000, Limit: 6000},
			Decision{at(t0), false, Widen}},
		{"§7: one tie group at MaxLimit stalls", at(t0),
			Page{Rows: []Row{d(t2), d(t2)}, Examined: MaxLimit, Limit: MaxLimit},
			Decision{at(t0), false, Stalled}},
		{"filtered rows make a page full", at(t0),
			Page{Rows: []Row{d(t2), d(t1)}, Examined: 4, Limit: 4},
			Decision{at(t1), true, Continue}},
		{"filtered rows on a page below its limit", at(t0),
			Page{Rows: []Row{d(t2), d(t1)}, Examined: 3, Limit: 4},
			Decision{at(t2), true, CaughtUp}},
		{"a full page with a failure", at(t0), full(d(t1), f(t2), d(t3), d(t3)),
			Decision{at(t1), true, Blocked}},
		{"a failure in the cut tie group", at(t0), full(d(t1), d(t2), d(t3), f(t3)),
			Decision{at(t2), true, Blocked}},
		{"examined below the row count is taken as full", at(t0),
			Page{Rows: []Row{d(t1), d(t2)}, Examined: 0, Limit: 2},
			Decision{at(t1), true, Continue}},
		{"an unknown limit is taken as full", at(t0),
			Page{Rows: []Row{d(t1), d(t2)}, Examined: 2},
			Decision{at(t1), true, Continue}},
		{"an unknown limit, nothing examined", at(t0), Page{},
			Decision{at(t0), false, CaughtUp}},
		{"an empty page", at(t0), Page{Limit: 500},
			Decision{at(t0), false, CaughtUp}},
	})
}

// §3: the server orders text, so a later instant may sort first, and one
// instant spelt two ways is two values.
func TestAdvanceMixedFormats(t *testing.T) {
	runAdvanceCases(t, []advanceCase{
		{"§3: a later instant sorting first is below the last row", at(t0), full(d(t5), d(t5half)),
			Decision{at(t5half), true, Continue}},
		{"failure at the earlier instant that sorts last", at(t0), partial(f(t5), d(t5half)),
			Decision{at(t5half), true, Blocked}},
		{"§3: failure at the later instant that sorts first", at(t0), partial(d(t5), f(t5half)),
			Decision{at(t0), false, Blocked}},
		{"one instant spelt two ways is two values", at(t0), full(d(t5), d(t5plus)),
			Decision{at(t5plus), true, Continue}},
		{"a failure spelt the other way still blocks its text", at(t0), partial(d(t5plus), f(t5)),
			Decision{at(t5plus), true, Blocked}},
	})
}
