// Package replica is the pass's contract with the stores it writes to: what a
// pass hands a store (a Memory to write, a Quarantined row to record), what a
// store keeps for it (a peer's BreakerState), and the outcomes a store reports
// (ErrStale, ErrUnwritable, ErrConflict). The pass (internal/catchup) declares
// the interfaces; a store (internal/ddbstore, or a test's map) implements them
// with these types and translates its own errors to these sentinels.
//
// It is a leaf, as database/sql/driver is for database/sql: stores import the
// contract, not the pass, so the pass's own tests can run it against a real
// store without an import cycle. It imports no AWS package.
package replica

import (
	"errors"
	"time"

	"github.com/aimemory/catchup/internal/row"
)

// Outcomes a store reports, classified by what the pass does next.
var (
	// ErrStale: the table already holds this version or a newer one. Done.
	ErrStale = errors.New("table holds a newer or equal version")
	// ErrUnwritable: the store refuses this item for good (too large, a number
	// out of range...). Quarantine the row; retrying will not help.
	ErrUnwritable = errors.New("item can never be written")
	// ErrConflict: a watermark write lost to a newer value or a reset. Not a failure.
	ErrConflict = errors.New("watermark changed underneath")
)

// Memory is one valid row to write.
type Memory struct {
	ID        string
	UpdatedAt string         // exact peer text, stored as a string attribute
	Instant   time.Time      // parsed UpdatedAt: decides who wins
	Fields    map[string]any // every field of the row (json.Number for numbers)
	Peer      string         // peer id it came from (kept as a meta attribute)
}

// FromRow is the one way a valid row becomes what is written: its identity,
// its exact updated_at text and instant, every field, and the peer it came
// from. The row must be valid (row.Invalid == nil).
func FromRow(peer string, row row.Row) Memory {
	return Memory{ID: row.ID, UpdatedAt: row.UpdatedAt, Instant: row.Instant, Fields: row.Fields, Peer: peer}
}

// Quarantined is an invalid row recorded for operators.
type Quarantined struct {
	Peer      string
	Key       string // stable per (peer, raw row); set by the store when empty
	RowID     string
	UpdatedAt string
	Reason    string
	Raw       []byte // truncated past 350 KB (Truncated, RawSHA256, RawBytes say so)
	Truncated bool
	RawSHA256 string
	RawBytes  int
	FirstSeen time.Time
	LastSeen  time.Time
}

// BreakerState is a peer's circuit breaker: how many runs in a row failed,
// and until when the peer is to be skipped. The zero value is a closed
// breaker (no failures).
type BreakerState struct {
	Failures  int
	RetryAt   time.Time
	LastError string
}
