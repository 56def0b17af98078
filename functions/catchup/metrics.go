package main

import (
	"encoding/json"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/stamp"
)

// metricsNamespace is the CloudWatch namespace of every metric; template.yaml alarms on it.
const metricsNamespace = "Catchup"

// Metric names, shared with template.yaml's alarms.
var (
	peerMetrics = []string{"Fetched", "Applied", "Stale", "Quarantined", "FailedRows", "Pages",
		"WatermarkLagSeconds", "Backlog", "PeerFailed", "Stalled", "Skipped",
		"ErrorsUnreachable", "ErrorsRejected", "ErrorsBadResponse", "ErrorsWrite", "ErrorsState",
		"ConsecutiveFailures"}
	runMetrics = []string{"Peers", "RunFailedPeers", "RunStalledPeers", "RunMaxLagSeconds",
		"RunMaxConsecutiveFailures", "QuarantinedRows", "RunDurationMs", "DeadlineMarginMs"}
)

// emitMetrics writes the run's metrics in CloudWatch Embedded Metric Format:
// one line per peer (dimensions FunctionName, Peer) and one for the run
// (FunctionName, so two stacks in one account keep apart), also when the run
// had nothing to do, so that "idle" and "not running" differ.
func (a *app) emitMetrics(rep catchup.Report) {
	if a.metrics == nil || rep.DryRun {
		return
	}
	now := a.now()
	enc := json.NewEncoder(a.metrics)
	run := map[string]any{"Peers": len(rep.Peers), "RunDurationMs": rep.DurationMs}
	if rep.MarginMs != nil {
		run["DeadlineMarginMs"] = *rep.MarginMs
	}
	var failed, stalled, quarantined, maxFailures int
	var maxLag float64
	fn := map[string]any{"FunctionName": a.functionName}
	for _, p := range rep.Peers {
		vals := peerValues(p, now)
		if lag, ok := vals["WatermarkLagSeconds"].(float64); ok && lag > maxLag {
			maxLag = lag
		}
		failed += vals["PeerFailed"].(int)
		stalled += vals["Stalled"].(int)
		quarantined += p.Invalid
		maxFailures = max(maxFailures, p.ConsecutiveFailures)
		dims := map[string]any{"FunctionName": a.functionName, "Peer": p.Peer}
		_ = enc.Encode(emf(now, []string{"FunctionName", "Peer"}, dims, vals))
	}
	run["RunFailedPeers"], run["RunStalledPeers"] = failed, stalled
	run["RunMaxLagSeconds"], run["QuarantinedRows"] = maxLag, quarantined
	run["RunMaxConsecutiveFailures"] = maxFailures
	_ = enc.Encode(emf(now, []string{"FunctionName"}, fn, run))
}

// peerValues computes one peer's metric values.
func peerValues(p catchup.PeerReport, now time.Time) map[string]any {
	v := map[string]any{
		"Fetched": p.Fetched, "Applied": p.Applied, "Stale": p.Stale, "Quarantined": p.Invalid,
		"FailedRows": p.Failed, "Pages": p.Pages,
		"Backlog": b2i(p.Backlog), "PeerFailed": b2i(p.Status == catchup.StatusFailed),
		"Stalled": b2i(p.Status == catchup.StatusStalled), "Skipped": b2i(p.Status == catchup.StatusSkipped),
		"ErrorsUnreachable":   b2i(p.ErrorClass == catchup.ClassUnreachable),
		"ErrorsRejected":      b2i(p.ErrorClass == catchup.ClassRejected || p.ErrorClass == catchup.ClassUntrusted),
		"ErrorsBadResponse":   b2i(p.ErrorClass == catchup.ClassBadResponse),
		"ErrorsWrite":         b2i(p.ErrorClass == catchup.ClassWrite),
		"ErrorsState":         b2i(p.ErrorClass == catchup.ClassState),
		"ConsecutiveFailures": p.ConsecutiveFailures,
	}
	// Lag is 0 for a caught-up peer (a quiet peer is not late); otherwise the
	// age of its watermark. A peer never pulled has no lag to report.
	if p.Status == catchup.StatusCaughtUp {
		v["WatermarkLagSeconds"] = 0.0
	} else if t, err := stamp.Parse(p.Watermark); err == nil {
		v["WatermarkLagSeconds"] = max(0, now.Sub(t).Seconds())
	}
	return v
}

// emf builds one EMF record; the metric names are the keys of vals.
func emf(now time.Time, dims []string, dimVals, vals map[string]any) map[string]any {
	rec := map[string]any{}
	var defs []map[string]string
	for _, name := range append(append(append([]string{}, peerMetrics...), runMetrics...), reconcileMetrics...) {
		if v, ok := vals[name]; ok {
			rec[name] = v
			defs = append(defs, map[string]string{"Name": name, "Unit": unit(name)})
		}
	}
	for k, v := range dimVals {
		rec[k] = v
	}
	rec["_aws"] = map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace": metricsNamespace, "Dimensions": [][]string{dims}, "Metrics": defs,
		}},
	}
	return rec
}

func unit(name string) string {
	switch name {
	case "WatermarkLagSeconds", "RunMaxLagSeconds":
		return "Seconds"
	case "RunDurationMs", "DeadlineMarginMs", "ReconcileDurationMs":
		return "Milliseconds"
	}
	return "Count"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
