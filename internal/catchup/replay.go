package catchup

import (
	"context"
	"errors"
	"fmt"

	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/peers"
)

// Quarantine lists and clears quarantined rows (ddbstore.Store).
type Quarantine interface {
	ListQuarantine(ctx context.Context, peer string) ([]ddbstore.Quarantined, error)
	DeleteQuarantine(ctx context.Context, peer, key string) error
}

// ReplayReport says what a replay of one peer's quarantine did.
type ReplayReport struct {
	Peer         string       `json:"peer"`
	Listed       int          `json:"listed"`
	Applied      int          `json:"applied"`       // written, and cleared from quarantine
	Stale        int          `json:"stale"`         // the table had it or newer: cleared
	StillInvalid int          `json:"still_invalid"` // kept, with the reason in Failures
	Failed       int          `json:"failed"`        // kept: a write or delete failed
	Failures     []RowFailure `json:"failures,omitempty"`
	Error        string       `json:"error,omitempty"`
}

// Replay re-validates each quarantined row of a peer (by the v0.6 rules: the
// generation it came from is not recorded) and writes the valid ones with the
// usual newer-wins rule, clearing each from quarantine once it is done. A row
// whose stored copy was truncated cannot be replayed and stays. A dry run
// only validates and reads.
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
		}
	}
	return rep
}

// replayOne returns quarantined with the reason when the row stays invalid.
func (r *Runner) replayOne(ctx context.Context, q Quarantine, qr ddbstore.Quarantined, dryRun bool) (outcome, error) {
	if qr.Truncated {
		return quarantined, fmt.Errorf("stored copy truncated at %d of %d bytes; fetch it from the peer", len(qr.Raw), qr.RawBytes)
	}
	row := peers.DecodeRow(qr.Raw, false)
	if row.Invalid != nil {
		return quarantined, row.Invalid
	}
	m := ddbstore.Memory{ID: row.ID, UpdatedAt: row.UpdatedAt, Instant: row.Instant, Fields: row.Fields, Peer: qr.Peer}
	var out outcome
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
	switch err := r.store.PutMemory(ctx, m); {
	case err == nil:
		out = applied
	case errors.Is(err, ddbstore.ErrStale):
		out = stale
	case errors.Is(err, ddbstore.ErrUnwritable):
		return quarantined, err
	default:
		return failed, err
	}
	if err := q.DeleteQuarantine(ctx, qr.Peer, qr.Key); err != nil {
		return failed, fmt.Errorf("written, but not cleared from quarantine: %w", err)
	}
	return out, nil
}

func (rep *ReplayReport) note(q ddbstore.Quarantined, err error) {
	if len(rep.Failures) < maxFailures {
		rep.Failures = append(rep.Failures, RowFailure{ID: q.RowID, UpdatedAt: q.UpdatedAt, Error: err.Error()})
	}
}
