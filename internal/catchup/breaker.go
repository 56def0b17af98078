package catchup

import (
	"context"
	"fmt"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
)

// Breakers keep a per-peer circuit breaker (ddbstore.Store).
type Breakers interface {
	Breaker(ctx context.Context, peer string) (replica.BreakerState, error)
	RecordFailure(ctx context.Context, peer, errText string, backoff func(failures int) time.Duration) (replica.BreakerState, error)
	RecordSuccess(ctx context.Context, peer string) error
}

// BreakerBackoff is how long a peer is skipped after its n-th failure in a
// row: the first two failures cost nothing (a blip is retried next run), then
// 5 minutes doubling up to 6 hours, so a dead peer costs almost nothing per
// run and comes back by itself.
func BreakerBackoff(failures int) time.Duration {
	if failures < 3 {
		return 0
	}
	d := 5 * time.Minute
	for i := 3; i < failures && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

// AuthBackoff is how long a peer is skipped after its n-th failure in a row
// when it refused our credentials: from the first, 5 minutes doubling up to
// 6 hours. Each such run cost the peer 2 failed key checks, and a v1 peer
// locks out our source address (every peer behind it) after 5
// (docs/protocol.md §8). Naming the peer in a run pulls it at once, as for
// any open breaker, once the key is fixed.
func AuthBackoff(failures int) time.Duration { return BreakerBackoff(failures + 2) }

// checkBreaker reads the peer's circuit breaker. open says to skip the peer
// now, and then the report is filled: a skipped peer still reports its stored
// watermark (one read), so that its lag keeps growing in the metrics instead
// of vanishing. failures is the stored count, -1 when it could not be read
// (which never skips). An operator naming the peer (IgnoreBreaker) pulls it
// anyway.
func (r *Runner) checkBreaker(ctx context.Context, p peers.Peer, pass Pass, rep *PeerReport) (open bool, failures int) {
	if r.opt.Breakers == nil || pass.DryRun || pass.Range != nil {
		return false, 0
	}
	b, err := r.opt.Breakers.Breaker(ctx, p.ID)
	if err != nil {
		return false, -1
	}
	if pass.IgnoreBreaker || !r.opt.Now().Before(b.RetryAt) {
		return false, b.Failures
	}
	rep.Status = StatusSkipped
	rep.ConsecutiveFailures = b.Failures
	if m, err := r.store.Watermark(ctx, p.ID); err == nil {
		rep.Watermark, rep.PrevWatermark = m.Value, m.Value
	}
	rep.Error = fmt.Sprintf("circuit open after %d failures until %s (last: %s)",
		b.Failures, b.RetryAt.UTC().Format(time.RFC3339), b.LastError)
	return true, b.Failures
}

// recordBreaker counts a peer-level failure (unreachable, rejected, bad
// response), or clears the count after a run that reached the peer when
// there was a count to clear (failures != 0), so a healthy peer costs no
// write per run.
func (r *Runner) recordBreaker(ctx context.Context, pass Pass, rep *PeerReport, failures int) {
	if r.opt.Breakers == nil || pass.DryRun || pass.Range != nil || rep.Status == StatusSkipped {
		return
	}
	switch rep.ErrorClass {
	case ClassUnreachable, ClassRejected, ClassUntrusted, ClassBadResponse:
		backoff := BreakerBackoff
		if rep.keyRefused {
			backoff = AuthBackoff
		}
		if b, err := r.opt.Breakers.RecordFailure(ctx, rep.Peer, rep.Error, backoff); err == nil {
			rep.ConsecutiveFailures = b.Failures
		}
	case ClassState:
	default:
		if failures != 0 {
			_ = r.opt.Breakers.RecordSuccess(ctx, rep.Peer)
		}
	}
}
