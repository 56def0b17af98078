// Package watermark holds the rules of protocol.md §4 for advancing a per-peer
// watermark so that no row is ever skipped. It is pure: no I/O, no clock, no AWS.
package watermark

import "time"

// MaxLimit is the largest page a peer serves.
const MaxLimit = 10000

// Row is what the rules need to know of one row of a page.
type Row struct {
	UpdatedAt string // exactly as the peer sent it
	Done      bool   // durably written (or stale), or durably quarantined
}

// Page is one answer of GET /api/v1/sync/since, reduced to what the rules need.
type Page struct {
	Rows      []Row  // in any order; the rules sort them byte-wise, stable
	Examined  int    // count + excluded_for_scope + excluded_for_scope_private
	Limit     int    // the effective limit of the request
	NextSince string // the server's next_since, "" when absent or null
}

// State is where a peer stands during a run.
//
// Watermark is what may be stored durably. Cursor is the `since` of the next
// request in this run; it runs ahead of Watermark only past rows dated beyond
// now + skew, which are written but must not be stored as a watermark.
type State struct {
	Watermark string
	Cursor    string
}

// Outcome says what the caller does next with this peer.
type Outcome int

const (
	// CaughtUp: nothing more to pull now.
	CaughtUp Outcome = iota
	// Continue: a full page moved the cursor; pull the next page from State.Cursor.
	Continue
	// Widen: a full page could not move the cursor (one tie group, or every
	// row filtered out); ask again from the same cursor with NextLimit(limit).
	Widen
	// Stalled: as Widen, but the limit is already MaxLimit.
	Stalled
	// Blocked: a row is not done; stop this peer for this run.
	Blocked
)

// String names the outcome for reports and logs.
func (o Outcome) String() string {
	switch o {
	case CaughtUp:
		return "caught_up"
	case Continue:
		return "continue"
	case Widen:
		return "widen"
	case Stalled:
		return "stalled"
	case Blocked:
		return "blocked"
	}
	return "unknown"
}

// Decision is the result of applying the rules to one page.
type Decision struct {
	State    State
	Advanced bool // State.Watermark moved forward
	Outcome  Outcome
}

// Advance applies protocol.md §4 to one page fetched from st.Cursor and
// returns the new state. now and skew bound how far into the future a
// watermark may go (rule 6); skew also bounds an acceptable next_since (rule 5).
func Advance(st State, p Page, now time.Time, skew time.Duration) Decision {
	panic("unimplemented")
}

// NextLimit is the limit to ask for after Widen: double, at most MaxLimit.
func NextLimit(limit int) int {
	panic("unimplemented")
}
