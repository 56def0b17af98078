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
	"github.com/aimemory/catchup/internal/watermark"
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
//
// Fields is lent for the call it is passed to: the pass reuses the map for
// another row's fields once PutMemory (or WouldApply, VersionOf) has
// returned, so a store that keeps fields past the call keeps a copy. The
// values in it are never changed (a store may keep them).
type Memory struct {
	ID        string
	UpdatedAt string         // exact peer text, stored as a string attribute
	Instant   time.Time      // parsed UpdatedAt: decides who wins
	Fields    map[string]any // every field of the row (json.Number for numbers); lent, see above
	Peer      string         // peer id it came from (kept as a meta attribute)
}

// FieldCount is how many distinct top-level fields the version has, id and
// updated_at included whether or not Fields holds them. At equal instants
// the version with more fields wins before any digest (docs/protocol.md §6):
// a v0.6 node relaying a newer node's memory keeps its updated_at but drops
// the fields it does not know, and must not beat the full version.
func (m Memory) FieldCount() int {
	n := len(m.Fields)
	for _, k := range []string{"id", "updated_at"} {
		if _, ok := m.Fields[k]; !ok {
			n++
		}
	}
	return n
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

// Version is the part of a stored item a reconcile compares: which version of
// a memory the table holds, in the order newer-wins uses (docs/protocol.md §6),
// and whether it is a tombstone. A store reads it from a scan, and computes
// it for a row it would write (so the pass never hashes items itself).
type Version struct {
	ID      string
	TS      int64  // the instant, ns since the epoch (_cu_ts)
	NF      int    // field count, when the store breaks ties by it (0 otherwise)
	Digest  string // the store's tie-breaking digest (hex); "" for a tombstone
	Deleted bool   // a tombstone: not live, refuses this instant and older
	// Foreign is an item without the store's meta attributes (not written by
	// it): never a deletion candidate, always worth a conditional write.
	Foreign bool
}

// Newer reports whether v wins over o by newer-wins: the later instant, then
// more fields, then the larger digest.
func (v Version) Newer(o Version) bool {
	if v.TS != o.TS {
		return v.TS > o.TS
	}
	if v.NF != o.NF {
		return v.NF > o.NF
	}
	return v.Digest > o.Digest
}

// RegisteredPeer is a peer kept in the state table's registry, beside PEERS.
type RegisteredPeer struct {
	ID       string
	URL      string
	SecretID string
	Disabled bool // kept in the registry, but not pulled
}

// HistoryEntry is one operator reset of a peer's watermark, kept in its history.
type HistoryEntry struct {
	At     time.Time      // when the reset was written
	Prev   watermark.Mark // the watermark before the reset (zero when there was none)
	New    watermark.Mark // the watermark the reset stored
	Reason string         // the operator's reason
}
