package operator

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/event"
	"github.com/aimemory/catchup/internal/metrics"
)

// reconcileOptions reads the reconcile's variables; each error names its variable.
func reconcileOptions(lookup func(string) (string, bool)) (catchup.ReconcileOptions, error) {
	opt := catchup.ReconcileOptions{MaxDeletePercent: 10, Retention: 720 * time.Hour}
	if v, ok := lookup("RECONCILE_MAX_DELETE_PERCENT"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return opt, fmt.Errorf("RECONCILE_MAX_DELETE_PERCENT: %q is not a whole percentage from 0 to 100", v)
		}
		opt.MaxDeletePercent = n
		if n == 0 {
			opt.MaxDeletePercent = -1 // no deletion without max_deletions
		}
	}
	if v, ok := lookup("TOMBSTONE_RETENTION"); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour {
			return opt, fmt.Errorf("TOMBSTONE_RETENTION: %q is not a duration of at least 1h (e.g. 720h)", v)
		}
		opt.Retention = d
	}
	return opt, nil
}

// reconcile serves {"action":"reconcile","dry_run":bool,"max_deletions":N}.
func (h *Handler) reconcile(ctx context.Context, log *slog.Logger, ev event.Payload) (*catchup.ReconcileReport, error) {
	if len(ev.Peers) > 0 {
		return nil, fmt.Errorf("event: reconcile walks every enabled peer; \"peers\" is not allowed (deleting on a subset's absence would be wrong)")
	}
	if ev.MaxDeletions < 0 {
		return nil, fmt.Errorf("event: max_deletions %d is negative", ev.MaxDeletions)
	}
	opt, err := reconcileOptions(h.lookup)
	if err != nil {
		return nil, err
	}
	ps, err := h.selectPeers(ctx, log, nil)
	if err != nil {
		return nil, err
	}
	rep := h.Runner.Reconcile(ctx, h.Store, catchup.Reconcile{Peers: ps, DryRun: ev.DryRun, MaxDeletions: ev.MaxDeletions}, opt)
	log.Info("reconcile done", "repaired", rep.Repaired, "deletion_candidates", rep.DeletionCandidates,
		"tombstoned", rep.Tombstoned, "withheld", rep.Withheld, "live_rows", rep.LiveRows,
		"incomplete", rep.Incomplete, "error", rep.Error, "duration_ms", rep.DurationMs, "dry_run", rep.DryRun)
	if rep.Withheld != "" {
		log.Warn("reconcile withheld deletions", "withheld", rep.Withheld)
	}
	h.emitReconcileMetrics(rep)
	if rep.Error != "" {
		return &rep, fmt.Errorf("reconcile: %s", rep.Error)
	}
	return &rep, nil
}

// emitReconcileMetrics writes one EMF line for a reconcile (not a dry run).
func (h *Handler) emitReconcileMetrics(rep catchup.ReconcileReport) {
	if h.Metrics == nil {
		return
	}
	_, _ = h.Metrics.Write(metrics.ReconcileEMF(rep, h.now(), h.FunctionName))
}
