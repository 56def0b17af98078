// Package watermark holds the rules of docs/protocol.md §4 for advancing a per-peer
// watermark so that no row is ever skipped. It is pure: no I/O, no clock, no
// AWS; it imports only the standard library and internal/stamp.
//
// All ordering of timestamps here is byte-wise, as the peers' SQLite compares
// `updated_at > :since`; instants matter only for the "not in the future"
// bound of rule 6.
package watermark

const (
	// MaxLimit is the largest page a peer serves.
	MaxLimit = 10000
	// DefaultLimit is the page size a peer uses when none is asked for.
	DefaultLimit = 500
)

// Row is what the rules need to know of one row of a page.
type Row struct {
	UpdatedAt string // exactly as the peer sent it
	Done      bool   // durably written (or stale), or durably quarantined
}

// Page is one answer of GET /api/v1/sync/since, reduced to what the rules need.
type Page struct {
	Rows      []Row  // in any order; the rules sort them byte-wise, stable
	Examined  int    // count + excluded_for_scope + excluded_for_scope_private
	Limit     int    // the effective limit of the request; <= 0 when unknown
	NextSince string // the server's next_since, "" when absent or null
}

// State is where a peer stands during a run. A run starts with Cursor equal
// to the stored Watermark ("" for a peer never pulled: no `since`).
//
// Watermark is what may be stored durably: "" or a value the peer sent that
// stamp.Parse accepts and that was no later than now + skew. Cursor is the
// `since` of the next request in this run. Cursor runs ahead of Watermark when
// the newest row passed cannot be a watermark: a row dated beyond now + skew,
// or anything byte-wise after such a row. Those rows are written (the run
// goes on past them) but the stored watermark stays below them: Held records
// that the Cursor passed such a row, and Advance then does not move
// Watermark for the rest of the run (rule 6). Neither ever takes an
// updated_at that does not parse (the peer would answer 400 to it); such a
// row, quarantined, is passed by the next value that parses.
type State struct {
	Watermark string
	Cursor    string
	Held      bool
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

// Mark is a peer's stored watermark.
type Mark struct {
	Value string // "" = never pulled
	Epoch int64  // bumped by every reset; a pass advances only within its epoch
}
