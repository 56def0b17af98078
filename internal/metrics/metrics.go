// Package metrics turns a pass's report into CloudWatch Embedded Metric
// Format lines: a pure function of the report, the clock and a level, so the
// cost of a deployment (custom metrics are billed per name and dimension set)
// is decided here and tested without Lambda.
//
// At LevelStandard each peer emits the six metrics the alarms and the
// dashboard read per peer (PeerStandard); every other count is summed over
// the run without the Peer dimension. LevelDetailed adds PeerDetail per peer,
// for a while, when one peer needs a closer look.
package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/stamp"
)

// Namespace is the CloudWatch namespace of every metric; template.yaml alarms on it.
const Namespace = "Catchup"

// Level chooses how much per-peer detail is emitted.
type Level int

const (
	// LevelStandard emits PeerStandard per peer: at most six custom metrics a peer.
	LevelStandard Level = iota
	// LevelDetailed also emits PeerDetail per peer.
	LevelDetailed
)

// ParseLevel reads PEER_METRICS: "standard" or "detailed".
func ParseLevel(s string) (Level, error) {
	switch s {
	case "standard":
		return LevelStandard, nil
	case "detailed":
		return LevelDetailed, nil
	}
	return 0, fmt.Errorf("%q is not standard or detailed", s)
}

// Metric names, shared with template.yaml's alarms and dashboard.
var (
	// PeerStandard are emitted per peer (dimensions FunctionName, Peer) at every level.
	PeerStandard = []string{"WatermarkLagSeconds", "Applied", "PeerFailed", "ConsecutiveFailures",
		"Stalled", "Quarantined"}
	// PeerDetail are emitted per peer only at LevelDetailed; their sums are
	// always in the run line.
	PeerDetail = []string{"Fetched", "Stale", "FailedRows", "Pages", "Backlog", "Skipped",
		"ErrorsUnreachable", "ErrorsRejected", "ErrorsBadResponse", "ErrorsWrite", "ErrorsState"}
	// Run are emitted once per run (dimension FunctionName).
	Run = []string{"Peers", "RunFailedPeers", "RunStalledPeers", "RunMaxLagSeconds",
		"RunMaxConsecutiveFailures", "QuarantinedRows", "RunDurationMs", "DeadlineMarginMs",
		"RunApplied", "RunFetched", "RunStale", "RunFailedRows", "RunPages", "RunBacklogPeers",
		"RunSkippedPeers", "RunErrorsUnreachable", "RunErrorsRejected", "RunErrorsBadResponse",
		"RunErrorsWrite", "RunErrorsState"}
	// Reconcile are emitted once per reconcile (dimension FunctionName, the
	// reconcile function's), never per peer.
	Reconcile = []string{"ReconcileRepaired", "ReconcileDeletionCandidates", "ReconcileTombstoned",
		"ReconcileWithheld", "ReconcileDurationMs", "ReconcileLiveRows"}
)

// runSums names the run metric that sums each per-peer metric.
var runSums = map[string]string{
	"Applied": "RunApplied", "Fetched": "RunFetched", "Stale": "RunStale", "FailedRows": "RunFailedRows",
	"Pages": "RunPages", "Backlog": "RunBacklogPeers", "Skipped": "RunSkippedPeers",
	"PeerFailed": "RunFailedPeers", "Stalled": "RunStalledPeers", "Quarantined": "QuarantinedRows",
	"ErrorsUnreachable": "RunErrorsUnreachable", "ErrorsRejected": "RunErrorsRejected",
	"ErrorsBadResponse": "RunErrorsBadResponse", "ErrorsWrite": "RunErrorsWrite", "ErrorsState": "RunErrorsState",
}

// EMF returns the run's metrics, one JSON line per peer and one for the run
// (also when the run had nothing to do, so that "idle" and "not running"
// differ). functionName is the FunctionName dimension, so two stacks in one
// account keep apart. A dry run emits nothing.
func EMF(rep catchup.Report, now time.Time, functionName string, level Level) []byte {
	if rep.DryRun {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	perPeer := PeerStandard
	if level == LevelDetailed {
		perPeer = append(append([]string{}, PeerStandard...), PeerDetail...)
	}
	run := map[string]float64{"Peers": float64(len(rep.Peers)), "RunDurationMs": float64(rep.DurationMs)}
	for _, name := range runSums {
		run[name] = 0
	}
	run["RunMaxLagSeconds"], run["RunMaxConsecutiveFailures"] = 0, 0
	if rep.MarginMs != nil {
		run["DeadlineMarginMs"] = float64(*rep.MarginMs)
	}
	for _, p := range rep.Peers {
		vals := PeerValues(p, now)
		for name, sum := range runSums {
			run[sum] += vals[name]
		}
		if lag, ok := vals["WatermarkLagSeconds"]; ok {
			run["RunMaxLagSeconds"] = max(run["RunMaxLagSeconds"], lag)
		}
		run["RunMaxConsecutiveFailures"] = max(run["RunMaxConsecutiveFailures"], vals["ConsecutiveFailures"])
		dims := map[string]string{"FunctionName": functionName, "Peer": p.Peer}
		_ = enc.Encode(record(now, []string{"FunctionName", "Peer"}, dims, perPeer, vals))
	}
	fn := map[string]string{"FunctionName": functionName}
	_ = enc.Encode(record(now, []string{"FunctionName"}, fn, Run, run))
	return buf.Bytes()
}

// ReconcileEMF returns a reconcile's one metrics line (dimension
// FunctionName: the reconcile function's). A dry run emits nothing.
func ReconcileEMF(rep catchup.ReconcileReport, now time.Time, functionName string) []byte {
	if rep.DryRun {
		return nil
	}
	vals := map[string]float64{
		"ReconcileRepaired": float64(rep.Repaired), "ReconcileDeletionCandidates": float64(rep.DeletionCandidates),
		"ReconcileTombstoned": float64(rep.Tombstoned), "ReconcileWithheld": b2f(rep.Withheld != ""),
		"ReconcileDurationMs": float64(rep.DurationMs), "ReconcileLiveRows": float64(rep.LiveRows),
	}
	b, _ := json.Marshal(record(now, []string{"FunctionName"}, map[string]string{"FunctionName": functionName}, Reconcile, vals))
	return append(b, '\n')
}

// PeerValues computes one peer's metric values, PeerStandard and PeerDetail.
func PeerValues(p catchup.PeerReport, now time.Time) map[string]float64 {
	v := map[string]float64{
		"Fetched": float64(p.Fetched), "Applied": float64(p.Applied), "Stale": float64(p.Stale),
		"Quarantined": float64(p.Invalid), "FailedRows": float64(p.Failed), "Pages": float64(p.Pages),
		"Backlog": b2f(p.Backlog), "PeerFailed": b2f(p.Status == catchup.StatusFailed),
		"Stalled": b2f(p.Status == catchup.StatusStalled), "Skipped": b2f(p.Status == catchup.StatusSkipped),
		"ErrorsUnreachable":   b2f(p.ErrorClass == catchup.ClassUnreachable),
		"ErrorsRejected":      b2f(p.ErrorClass == catchup.ClassRejected || p.ErrorClass == catchup.ClassUntrusted),
		"ErrorsBadResponse":   b2f(p.ErrorClass == catchup.ClassBadResponse),
		"ErrorsWrite":         b2f(p.ErrorClass == catchup.ClassWrite),
		"ErrorsState":         b2f(p.ErrorClass == catchup.ClassState),
		"ConsecutiveFailures": float64(p.ConsecutiveFailures),
	}
	// Lag is 0 for a caught-up peer (a quiet peer is not late); otherwise the
	// age of its watermark. A peer never pulled has no lag to report.
	if p.Status == catchup.StatusCaughtUp {
		v["WatermarkLagSeconds"] = 0
	} else if t, err := stamp.Parse(p.Watermark); err == nil {
		v["WatermarkLagSeconds"] = max(0, now.Sub(t).Seconds())
	}
	return v
}

// record builds one EMF record of the names in order that vals holds.
func record(now time.Time, dims []string, dimVals map[string]string, names []string, vals map[string]float64) map[string]any {
	rec := map[string]any{}
	defs := []map[string]string{}
	for _, name := range names {
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
			"Namespace": Namespace, "Dimensions": [][]string{dims}, "Metrics": defs,
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

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
