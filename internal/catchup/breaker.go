package catchup

import (
	"context"
	"fmt"
	"time"

	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/peers"
)

// Breakers keep a per-peer circuit breaker (ddbstore.Store).
type Breakers interface {
	Breaker(ctx context.Context, peer string) (ddbstore.BreakerState, error)
	RecordFailure(ctx context.Context, peer, errText string, backoff func(failures int) time.Duration) (ddbstore.BreakerState, error)
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

// breakerOpen reports whether the peer's breaker says to skip it now, filling
// the report when it does. A breaker that cannot be read does not skip. A
// skipped peer still reports its stored watermark (one read), so that its
// lag keeps growing in the metrics while it is skipped instead of vanishing.
func (r *Runner) breakerOpen(ctx context.Context, p peers.Peer, pass Pass, rep *PeerReport) bool {
	if r.opt.Breakers == nil || pass.IgnoreBreaker || pass.DryRun || pass.Range != nil {
		return false
	}
	b, err := r.opt.Breakers.Breaker(ctx, p.ID)
	if err != nil || !r.opt.Now().Before(b.RetryAt) {
		return false
	}
	rep.Status = StatusSkipped
	rep.ConsecutiveFailures = b.Failures
	if m, err := r.store.Watermark(ctx, p.ID); err == nil {
		rep.Watermark, rep.PrevWatermark = m.Value, m.Value
	}
	rep.Error = fmt.Sprintf("circuit open after %d failures until %s (last: %s)",
		b.Failures, b.RetryAt.UTC().Format(time.RFC3339), b.LastError)
	return true
}

// recordBreaker counts a peer-level failure (unreachable, rejected, bad
// response) or clears the count after a run that reached the peer.
func (r *Runner) recordBreaker(ctx context.Context, pass Pass, rep *PeerReport) {
	if r.opt.Breakers == nil || pass.DryRun || pass.Range != nil || rep.Status == StatusSkipped {
		return
	}
	switch rep.ErrorClass {
	case ClassUnreachable, ClassRejected, ClassBadResponse:
		if b, err := r.opt.Breakers.RecordFailure(ctx, rep.Peer, rep.Error, BreakerBackoff); err == nil {
			rep.ConsecutiveFailures = b.Failures
		}
	case ClassState:
	default:
		_ = r.opt.Breakers.RecordSuccess(ctx, rep.Peer)
	}
}
