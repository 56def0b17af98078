package metrics_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/metrics"
	"github.com/aimemory/catchup/internal/metrics/emftest"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }

func everyState() catchup.Report {
	margin := int64(4200)
	return catchup.Report{DurationMs: 800, MarginMs: &margin, Peers: []catchup.PeerReport{
		{Peer: "quiet", Status: catchup.StatusCaughtUp, Watermark: ago(48 * time.Hour), Invalid: 2, Fetched: 2},
		{Peer: "busy", Status: catchup.StatusMore, Watermark: ago(time.Hour), Backlog: true, Applied: 500, Fetched: 510, Stale: 10, Pages: 3},
		{Peer: "down", Status: catchup.StatusFailed, ErrorClass: catchup.ClassUnreachable, Watermark: ago(2 * time.Hour), ConsecutiveFailures: 3},
		{Peer: "dead", Status: catchup.StatusSkipped, Watermark: ago(3 * time.Hour), ConsecutiveFailures: 5},
		{Peer: "stuck", Status: catchup.StatusStalled, Watermark: ago(30 * time.Minute), Backlog: true, Pages: 1},
		{Peer: "new", Status: catchup.StatusFailed, ErrorClass: catchup.ClassRejected, ConsecutiveFailures: 1},
		{Peer: "writes", Status: catchup.StatusFailed, ErrorClass: catchup.ClassWrite, Watermark: ago(time.Minute), Failed: 4, Invalid: 1, Fetched: 5, Pages: 1},
	}}
}

// Each peer state yields the per-peer values the alarms and the dashboard
// read, at both levels; the run line sums what the peers no longer carry.
func TestEMFOfEveryPeerState(t *testing.T) {
	nan := math.NaN()
	standard := map[string][]float64{ // in the order of metrics.PeerStandard
		"quiet":  {0, 0, 0, 0, 0, 2},
		"busy":   {3600, 500, 0, 0, 0, 0},
		"down":   {7200, 0, 1, 3, 0, 0},
		"dead":   {10800, 0, 0, 5, 0, 0},
		"stuck":  {1800, 0, 0, 0, 1, 0},
		"new":    {nan, 0, 1, 1, 0, 0}, // never pulled: no lag to report
		"writes": {60, 0, 1, 0, 0, 1},
	}
	detail := map[string][]float64{ // in the order of metrics.PeerDetail
		"quiet":  {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"busy":   {510, 10, 0, 3, 1, 0, 0, 0, 0, 0, 0},
		"down":   {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0},
		"dead":   {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
		"stuck":  {0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0},
		"new":    {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0},
		"writes": {5, 0, 4, 1, 0, 0, 0, 0, 0, 1, 0},
	}
	wantRun := map[string]float64{"Peers": 7, "RunFailedPeers": 3, "RunStalledPeers": 1, "RunMaxLagSeconds": 10800,
		"RunMaxConsecutiveFailures": 5, "QuarantinedRows": 3, "RunDurationMs": 800, "DeadlineMarginMs": 4200,
		"RunApplied": 500, "RunFetched": 517, "RunStale": 10, "RunFailedRows": 4, "RunPages": 5, "RunBacklogPeers": 2,
		"RunSkippedPeers": 1, "RunErrorsUnreachable": 1, "RunErrorsRejected": 1, "RunErrorsBadResponse": 0,
		"RunErrorsWrite": 1, "RunErrorsState": 0}
	for _, level := range []metrics.Level{metrics.LevelStandard, metrics.LevelDetailed} {
		byPeer, run := emftest.Split(t, emftest.Parse(t, metrics.EMF(everyState(), now, "catchup-fn", level)))
		for peer := range standard {
			l, ok := byPeer[peer]
			if !ok {
				t.Errorf("level %d: no line for peer %s", level, peer)
				continue
			}
			want := values(metrics.PeerStandard, standard[peer])
			names := metrics.PeerStandard
			if level == metrics.LevelDetailed {
				names = append(append([]string{}, names...), metrics.PeerDetail...)
				for k, v := range values(metrics.PeerDetail, detail[peer]) {
					want[k] = v
				}
			}
			if diff := cmp.Diff(want, emftest.Pick(l, names...), emftest.NaNEqual); diff != "" {
				t.Errorf("level %d peer %s (-want +got):\n%s", level, peer, diff)
			}
			if n, max := len(l.Metrics), len(names); n != max && !(peer == "new" && n == max-1) {
				t.Errorf("level %d peer %s declares %d metrics, want %d", level, peer, n, max)
			}
			if diff := cmp.Diff(map[string]string{"FunctionName": "catchup-fn", "Peer": peer}, l.Dims); diff != "" {
				t.Errorf("peer %s dimensions (-want +got):\n%s", peer, diff)
			}
		}
		if diff := cmp.Diff(wantRun, run.Metrics); diff != "" {
			t.Errorf("level %d run line (-want +got):\n%s", level, diff)
		}
		if diff := cmp.Diff(map[string]string{"FunctionName": "catchup-fn"}, run.Dims); diff != "" {
			t.Errorf("run dimensions (-want +got):\n%s", diff)
		}
	}
}

func values(names []string, vals []float64) map[string]float64 {
	m := map[string]float64{}
	for i, n := range names {
		m[n] = vals[i]
	}
	return m
}

// The cost bound: a run over N peers in every state emits at most six
// distinct (metric, Peer) pairs per peer by default, so custom metrics grow
// by six a peer; the run line adds a fixed number whatever N is.
func TestEMFCustomMetricsPerPeer(t *testing.T) {
	states := everyState().Peers
	for _, n := range []int{1, 7, 100} {
		rep := catchup.Report{DurationMs: 1}
		for i := range n {
			p := states[i%len(states)]
			p.Peer = fmt.Sprintf("peer-%03d", i)
			rep.Peers = append(rep.Peers, p)
		}
		for _, tt := range []struct {
			level metrics.Level
			max   int
		}{{metrics.LevelStandard, 6}, {metrics.LevelDetailed, 6 + len(metrics.PeerDetail)}} {
			pairs, runNames := map[[2]string]bool{}, map[string]bool{}
			for _, l := range emftest.Parse(t, metrics.EMF(rep, now, "fn", tt.level)) {
				for name := range l.Metrics {
					if p, ok := l.Dims["Peer"]; ok {
						pairs[[2]string{name, p}] = true
					} else {
						runNames[name] = true
					}
				}
			}
			if len(pairs) > tt.max*n {
				t.Errorf("level %d, %d peers: %d (metric, Peer) pairs, want at most %d", tt.level, n, len(pairs), tt.max*n)
			}
			if len(runNames) > len(metrics.Run) {
				t.Errorf("level %d: %d run metrics, want at most %d", tt.level, len(runNames), len(metrics.Run))
			}
		}
	}
	if len(metrics.PeerStandard) > 6 {
		t.Errorf("PeerStandard has %d names, want at most 6", len(metrics.PeerStandard))
	}
}

// A run with nothing to pull still says it ran, so that the lag alarm (which
// treats missing data as breaching) tells idle from not running; a dry run's
// numbers are what would happen and must not feed the alarms.
func TestEMFOfEmptyAndDryRuns(t *testing.T) {
	lines := emftest.Parse(t, metrics.EMF(catchup.Report{Peers: []catchup.PeerReport{}}, now, "fn", metrics.LevelStandard))
	if len(lines) != 1 || lines[0].Metrics["Peers"] != 0 || lines[0].Metrics["RunMaxLagSeconds"] != 0 {
		t.Fatalf("empty run: %+v, want the run line only, with zeros", lines)
	}
	if _, ok := lines[0].Metrics["DeadlineMarginMs"]; ok {
		t.Errorf("empty run without a deadline reports a margin")
	}
	dry := catchup.Report{DryRun: true, Peers: []catchup.PeerReport{{Peer: "a", Status: catchup.StatusCaughtUp}}}
	if out := metrics.EMF(dry, now, "fn", metrics.LevelDetailed); len(out) != 0 {
		t.Errorf("a dry run emitted %s", out)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]metrics.Level{"standard": metrics.LevelStandard, "detailed": metrics.LevelDetailed} {
		if got, err := metrics.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := metrics.ParseLevel("verbose"); err == nil {
		t.Errorf("ParseLevel(verbose) accepted")
	}
}

func TestReconcileEMF(t *testing.T) {
	rep := catchup.ReconcileReport{LiveRows: 1000, Repaired: 3, DeletionCandidates: 200, Withheld: "200 candidates exceed the guard of 100", DurationMs: 5000}
	lines := emftest.Parse(t, metrics.ReconcileEMF(rep, now, "recon-fn"))
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1", len(lines))
	}
	want := map[string]float64{"ReconcileRepaired": 3, "ReconcileDeletionCandidates": 200, "ReconcileTombstoned": 0,
		"ReconcileWithheld": 1, "ReconcileDurationMs": 5000, "ReconcileLiveRows": 1000}
	if diff := cmp.Diff(want, lines[0].Metrics); diff != "" {
		t.Errorf("reconcile metrics (-want +got):\n%s", diff)
	}
	rep.DryRun = true
	if out := metrics.ReconcileEMF(rep, now, "recon-fn"); len(out) != 0 {
		t.Errorf("a dry reconcile emitted %s", out)
	}
}
