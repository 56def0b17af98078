package catchup

import (
	"context"
	"time"
)

// Peer statuses in a report.
const (
	StatusCaughtUp = "caught_up" // the peer had nothing more
	StatusMore     = "more"      // the budget ran out (or another run moved the watermark) with rows left
	StatusStalled  = "stalled"   // a full page of one tie group at the largest limit: cannot advance
	StatusFailed   = "failed"    // the peer, a write or the state table failed; see Error
	StatusSkipped  = "skipped"   // not pulled this run (circuit breaker open)
)

// Error classes, for metrics and alarms.
const (
	ClassUnreachable = "unreachable"  // transport, timeouts, 429, 5xx
	ClassRejected    = "rejected"     // auth or config: any other 4xx, a missing secret
	ClassUntrusted   = "untrusted"    // the peer's TLS certificate does not verify: set ca_pem
	ClassBadResponse = "bad_response" // over the cap, not JSON, no memories
	ClassWrite       = "write"        // rows that could not be written or quarantined
	ClassState       = "state"        // the state table could not be read or written
)

// maxFailures bounds how many row failures a report carries per peer.
const maxFailures = 10

// Report is the result of one pass.
type Report struct {
	Peers      []PeerReport `json:"peers"`
	DryRun     bool         `json:"dry_run,omitempty"`
	DurationMs int64        `json:"duration_ms"`
	// MarginMs is what was left before the context deadline when the pass
	// ended (absent without a deadline).
	MarginMs *int64 `json:"margin_ms,omitempty"`
}

// PeerReport is one peer's part of a pass.
type PeerReport struct {
	Peer          string `json:"peer"`
	Status        string `json:"status"`
	Pages         int    `json:"pages"`
	Fetched       int    `json:"fetched"`     // rows received, less re-reads of rows this run already did
	Applied       int    `json:"applied"`     // rows that changed the table (dry run: would change)
	Stale         int    `json:"stale"`       // rows the table already had in this or a newer version
	Invalid       int    `json:"invalid"`     // rows quarantined
	Failed        int    `json:"rows_failed"` // rows neither written nor quarantined (not the peer's status)
	Watermark     string `json:"watermark"`
	PrevWatermark string `json:"previous_watermark"`
	// Cursor is where the run stopped reading, when it differs from Watermark
	// (past future-dated rows, or during a backfill).
	Cursor     string       `json:"cursor,omitempty"`
	Error      string       `json:"error,omitempty"`
	ErrorClass string       `json:"error_class,omitempty"`
	Failures   []RowFailure `json:"failures,omitempty"` // the first few
	DurationMs int64        `json:"duration_ms"`
	Backlog    bool         `json:"backlog"` // rows are known to remain
	// ConsecutiveFailures counts the runs in a row this peer failed to be
	// reached or understood (the circuit breaker's count; 0 after a success).
	ConsecutiveFailures int `json:"consecutive_failures,omitempty"`
	// RetryAfter is when the peer asked to be asked again (429, 503 with a
	// Retry-After past the run's budget; status more), RFC 3339 UTC.
	RetryAfter string `json:"retry_after,omitempty"`
	// keyRefused: the peer refused our credentials (a failed key check on
	// its side), so the breaker backs off at once (AuthBackoff).
	keyRefused bool
}

// RowFailure names one row that was not done and why.
type RowFailure struct {
	ID        string `json:"id"`
	UpdatedAt string `json:"updated_at"`
	Error     string `json:"error"`
}

// Failed reports whether any peer failed.
func (r Report) Failed() int {
	n := 0
	for _, p := range r.Peers {
		if p.Status == StatusFailed {
			n++
		}
	}
	return n
}

func (r *Report) finish(ctx context.Context, start, end time.Time) {
	r.DurationMs = end.Sub(start).Milliseconds()
	if dl, ok := ctx.Deadline(); ok {
		m := dl.Sub(end).Milliseconds()
		r.MarginMs = &m
	}
}

func (p *PeerReport) fail(class string, err error) {
	p.Status = StatusFailed
	p.ErrorClass = class
	p.Error = err.Error()
}

func (p *PeerReport) rowFailed(id, updatedAt string, err error) {
	p.Failed++
	if len(p.Failures) < maxFailures {
		p.Failures = append(p.Failures, RowFailure{ID: id, UpdatedAt: updatedAt, Error: err.Error()})
	}
}
