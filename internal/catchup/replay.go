package catchup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/row"
	"github.com/aimemory/catchup/internal/stamp"
)

// superseded is a replay outcome: still invalid, but beaten by the table's version.
const superseded = failed + 1

// Quarantine lists and clears quarantined rows (ddbstore.Store).
type Quarantine interface {
	ListQuarantine(ctx context.Context, peer string) ([]replica.Quarantined, error)
	DeleteQuarantine(ctx context.Context, peer, key string) error
}

// ReplayReport says what a replay of one peer's quarantine did.
type ReplayReport struct {
	Peer         string       `json:"peer"`
	Listed       int          `json:"listed"`
	Applied      int          `json:"applied"`       // written, and cleared from quarantine
	Stale        int          `json:"stale"`         // the table had it or newer: cleared
	Superseded   int          `json:"superseded"`    // still invalid, but the table holds a version that wins: cleared
	StillInvalid int          `json:"still_invalid"` // kept, with the reason in Failures
	Failed       int          `json:"failed"`        // kept: a write or delete failed
	Failures     []RowFailure `json:"failures,omitempty"`
	Error        string       `json:"error,omitempty"`
}

// Replay re-validates each quarantined row of a peer (by the v0.6 rules: the
// generation it came from is not recorded) and writes the valid ones with the
// usual newer-wins rule, clearing each from quarantine once it is done. A row
// still invalid whose memory the table already holds in a version that wins
// over it (the peer has since fixed it) can never matter again, and is
// cleared as superseded. A row whose stored copy was truncated cannot be
// replayed and stays. A dry run only validates and reads.
func (r *Runner) Replay(ctx context.Context, q Quarantine, peer string, dryRun bool) ReplayReport {
	rep := ReplayReport{Peer: peer}
	rows, err := q.ListQuarantine(ctx, peer)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	rep.Listed = len(rows)
	for _, qr := range rows {
		out, err := r.replayOne(ctx, q, qr, dryRun)
		switch {
		case err != nil && out == quarantined:
			rep.StillInvalid++
			rep.note(qr, err)
		case err != nil:
			rep.Failed++
			rep.note(qr, err)
		case out == applied:
			rep.Applied++
		case out == stale:
			rep.Stale++
		case out == superseded:
			rep.Superseded++
		}
	}
	return rep
}

// replayOne returns quarantined with the reason when the row stays invalid.
func (r *Runner) replayOne(ctx context.Context, q Quarantine, qr replica.Quarantined, dryRun bool) (outcome, error) {
	if qr.Truncated {
		return quarantined, fmt.Errorf("stored copy truncated at %d of %d bytes; fetch it from the peer", len(qr.Raw), qr.RawBytes)
	}
	row := row.DecodeRow(qr.Raw, false)
	if row.Invalid != nil {
		if r.superseded(ctx, row) {
			return unquarantine(ctx, q, qr, superseded, dryRun)
		}
		return quarantined, row.Invalid
	}
	m := replica.FromRow(qr.Peer, row)
	if dryRun {
		newer, err := r.store.WouldApply(ctx, m)
		if err != nil {
			return failed, err
		}
		if newer {
			return applied, nil
		}
		return stale, nil
	}
	switch err := r.putMemory(ctx, m); {
	case err == nil:
		return unquarantine(ctx, q, qr, applied, false)
	case errors.Is(err, replica.ErrStale):
		return unquarantine(ctx, q, qr, stale, false)
	case errors.Is(err, replica.ErrUnwritable):
		return quarantined, err
	default:
		return failed, err
	}
}

// superseded reports whether the table holds a version of an invalid row's
// memory that newer-wins prefers to it. A row without a usable id or
// updated_at never is.
func (r *Runner) superseded(ctx context.Context, row row.Row) bool {
	at, err := stamp.Parse(row.UpdatedAt)
	if err != nil || strings.TrimSpace(row.ID) == "" {
		return false
	}
	wins, err := r.store.WouldApply(ctx, replica.Memory{ID: row.ID, UpdatedAt: row.UpdatedAt, Instant: at, Fields: row.Fields})
	return err == nil && !wins
}

// unquarantine removes a done row from quarantine (not in a dry run) and returns out.
func unquarantine(ctx context.Context, q Quarantine, qr replica.Quarantined, out outcome, dryRun bool) (outcome, error) {
	if dryRun {
		return out, nil
	}
	if err := q.DeleteQuarantine(ctx, qr.Peer, qr.Key); err != nil {
		return failed, fmt.Errorf("done, but not cleared from quarantine: %w", err)
	}
	return out, nil
}

func (rep *ReplayReport) note(q replica.Quarantined, err error) {
	if len(rep.Failures) < maxFailures {
		rep.Failures = append(rep.Failures, RowFailure{ID: q.RowID, UpdatedAt: q.UpdatedAt, Error: err.Error()})
	}
}
