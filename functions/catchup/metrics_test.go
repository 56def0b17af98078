package main

// The metrics in Embedded Metric Format and the log lines of a run: valid
// EMF by the specification, the values the alarms read, emitted on runs with
// nothing to do and never for dry runs; one log line per peer, one per
// failure, the request id on each, and never a key or a row's content.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/peertest"
)

// emfUnits are the units the EMF specification accepts.
var emfUnits = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None"}

// emfLine is one decoded EMF record: its dimensions and metric values.
type emfLine struct {
	dims    map[string]string
	metrics map[string]float64
}

// parseEMF checks every line of out against the EMF specification (CloudWatch
// "Specification: Embedded metric format") and returns them decoded.
func parseEMF(t *testing.T, out []byte) []emfLine {
	t.Helper()
	var lines []emfLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, checkEMF(t, sc.Bytes()))
	}
	return lines
}

func checkEMF(t *testing.T, raw []byte) emfLine {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatalf("not one JSON object per line: %v: %s", err, raw)
	}
	meta, ok := root["_aws"].(map[string]any)
	if !ok || len(meta) != 2 {
		t.Fatalf("_aws must be an object of exactly Timestamp and CloudWatchMetrics: %s", raw)
	}
	if ts, ok := meta["Timestamp"].(float64); !ok || ts != math.Trunc(ts) || ts < 1e12 {
		t.Errorf("_aws.Timestamp %v is not milliseconds since 1970", meta["Timestamp"])
	}
	directives, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		t.Fatalf("_aws.CloudWatchMetrics is not a non-empty array: %s", raw)
	}
	line := emfLine{dims: map[string]string{}, metrics: map[string]float64{}}
	for _, d := range directives {
		checkDirective(t, root, d.(map[string]any), &line)
	}
	return line
}

func checkDirective(t *testing.T, root, d map[string]any, line *emfLine) {
	t.Helper()
	if len(d) != 3 || d["Namespace"] != metricsNamespace {
		t.Errorf("directive must hold exactly Namespace %q, Dimensions, Metrics: %v", metricsNamespace, d)
	}
	sets, ok := d["Dimensions"].([]any)
	if !ok || len(sets) == 0 {
		t.Errorf("Dimensions is not a non-empty array of dimension sets: %v", d["Dimensions"])
	}
	for _, set := range sets {
		keys, _ := set.([]any)
		if len(keys) > 30 {
			t.Errorf("a dimension set of %d keys", len(keys))
		}
		for _, k := range keys {
			v, ok := root[k.(string)].(string)
			if !ok || v == "" {
				t.Errorf("dimension %v has no string value at the top level", k)
			}
			line.dims[k.(string)] = v
		}
	}
	defs, _ := d["Metrics"].([]any)
	if len(defs) == 0 || len(defs) > 100 {
		t.Errorf("%d metric definitions, want 1 to 100", len(defs))
	}
	for _, def := range defs {
		m := def.(map[string]any)
		name, _ := m["Name"].(string)
		if unit, _ := m["Unit"].(string); !slices.Contains(emfUnits, unit) || len(m) != 2 {
			t.Errorf("metric definition %v: want Name and a valid Unit", m)
		}
		v, ok := root[name].(float64)
		if !ok {
			t.Errorf("metric %q is declared but its top-level value is %v, not a number", name, root[name])
		}
		if !slices.Contains(peerMetrics, name) && !slices.Contains(runMetrics, name) {
			t.Errorf("metric %q is not in peerMetrics or runMetrics (the template drift test reads those)", name)
		}
		line.metrics[name] = v
	}
}

// split separates the per-peer lines (by peer) from the run line.
func split(t *testing.T, lines []emfLine) (map[string]emfLine, emfLine) {
	t.Helper()
	peers := map[string]emfLine{}
	var run []emfLine
	for _, l := range lines {
		if p, ok := l.dims["Peer"]; ok {
			peers[p] = l
		} else {
			run = append(run, l)
		}
	}
	if len(run) != 1 {
		t.Fatalf("%d run lines, want 1", len(run))
	}
	return peers, run[0]
}

// pick returns the named values of a line; a missing metric is NaN.
func pick(l emfLine, names ...string) map[string]float64 {
	out := map[string]float64{}
	for _, n := range names {
		v, ok := l.metrics[n]
		if !ok {
			v = math.NaN()
		}
		out[n] = v
	}
	return out
}

var nanEqual = cmp.Comparer(func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) })

func TestMetricsOfEveryPeerState(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }
	margin := int64(4200)
	rep := catchup.Report{DurationMs: 800, MarginMs: &margin, Peers: []catchup.PeerReport{
		{Peer: "quiet", Status: catchup.StatusCaughtUp, Watermark: ago(48 * time.Hour), Invalid: 2},
		{Peer: "busy", Status: catchup.StatusMore, Watermark: ago(time.Hour), Backlog: true, Applied: 500, Pages: 3},
		{Peer: "down", Status: catchup.StatusFailed, ErrorClass: catchup.ClassUnreachable, Watermark: ago(2 * time.Hour), ConsecutiveFailures: 3},
		{Peer: "dead", Status: catchup.StatusSkipped, Watermark: ago(3 * time.Hour), ConsecutiveFailures: 5},
		{Peer: "stuck", Status: catchup.StatusStalled, Watermark: ago(30 * time.Minute), Backlog: true},
		{Peer: "new", Status: catchup.StatusFailed, ErrorClass: catchup.ClassRejected, ConsecutiveFailures: 1},
		{Peer: "writes", Status: catchup.StatusFailed, ErrorClass: catchup.ClassWrite, Watermark: ago(time.Minute), Failed: 4, Invalid: 1},
	}}
	var out bytes.Buffer
	a := &app{metrics: &out, now: func() time.Time { return now }, functionName: "catchup-fn"}
	a.emitMetrics(rep)
	byPeer, run := split(t, parseEMF(t, out.Bytes()))

	names := []string{"WatermarkLagSeconds", "Backlog", "PeerFailed", "Skipped", "Stalled", "ConsecutiveFailures",
		"ErrorsUnreachable", "ErrorsRejected", "ErrorsWrite", "FailedRows", "Quarantined"}
	nan := math.NaN()
	want := map[string][]float64{ // in the order of names
		"quiet":  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
		"busy":   {3600, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"down":   {7200, 0, 1, 0, 0, 3, 1, 0, 0, 0, 0},
		"dead":   {10800, 0, 0, 1, 0, 5, 0, 0, 0, 0, 0},
		"stuck":  {1800, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0},
		"new":    {nan, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0}, // never pulled: no lag to report
		"writes": {60, 0, 1, 0, 0, 0, 0, 0, 1, 4, 1},
	}
	for peer, vals := range want {
		l, ok := byPeer[peer]
		if !ok {
			t.Errorf("no line for peer %s", peer)
			continue
		}
		wantVals := map[string]float64{}
		for i, n := range names {
			wantVals[n] = vals[i]
		}
		if diff := cmp.Diff(wantVals, pick(l, names...), nanEqual); diff != "" {
			t.Errorf("peer %s (-want +got):\n%s", peer, diff)
		}
		if diff := cmp.Diff(map[string]string{"FunctionName": "catchup-fn", "Peer": peer}, l.dims); diff != "" {
			t.Errorf("peer %s dimensions (-want +got):\n%s", peer, diff)
		}
		if n := len(l.metrics); n != len(peerMetrics) && !(peer == "new" && n == len(peerMetrics)-1) {
			t.Errorf("peer %s declares %d metrics, want all %d", peer, n, len(peerMetrics))
		}
	}
	wantRun := map[string]float64{"Peers": 7, "RunFailedPeers": 3, "RunStalledPeers": 1, "RunMaxLagSeconds": 10800,
		"RunMaxConsecutiveFailures": 5, "QuarantinedRows": 3, "RunDurationMs": 800, "DeadlineMarginMs": 4200}
	if diff := cmp.Diff(wantRun, run.metrics); diff != "" {
		t.Errorf("run line (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"FunctionName": "catchup-fn"}, run.dims); diff != "" {
		t.Errorf("run dimensions (-want +got):\n%s", diff)
	}
}

// A run with nothing to pull still says it ran, so that the lag alarm (which
// treats missing data as breaching) tells idle from not running.
func TestMetricsOfEmptyRun(t *testing.T) {
	var out bytes.Buffer
	a := &app{metrics: &out, now: time.Now, functionName: "fn"}
	a.emitMetrics(catchup.Report{Peers: []catchup.PeerReport{}})
	lines := parseEMF(t, out.Bytes())
	if len(lines) != 1 {
		t.Fatalf("%d lines, want the run line only", len(lines))
	}
	want := map[string]float64{"Peers": 0, "RunFailedPeers": 0, "RunStalledPeers": 0, "RunMaxLagSeconds": 0,
		"RunMaxConsecutiveFailures": 0, "QuarantinedRows": 0, "RunDurationMs": 0}
	if diff := cmp.Diff(want, lines[0].metrics); diff != "" {
		t.Errorf("run line (-want +got):\n%s", diff)
	}
}

// A dry run's numbers are what would happen: they must not feed the alarms.
// Outside Lambda there is no metrics writer at all.
func TestMetricsNotEmitted(t *testing.T) {
	var out bytes.Buffer
	a := &app{metrics: &out, now: time.Now}
	a.emitMetrics(catchup.Report{DryRun: true, Peers: []catchup.PeerReport{{Peer: "a", Status: catchup.StatusCaughtUp}}})
	if out.Len() != 0 {
		t.Errorf("a dry run emitted %s", out.String())
	}
	(&app{now: time.Now}).emitMetrics(catchup.Report{Peers: []catchup.PeerReport{{Peer: "a"}}})
}

// Through the handler: a second run with nothing new emits a line per peer
// and the run line; operator actions emit nothing.
func TestMetricsOfIdleRun(t *testing.T) {
	f := newOpsFixture(t, nil)
	f.run(t, eventFile(t, "scheduled.json"))
	f.metrics.Reset()
	rep := f.run(t, eventFile(t, "scheduled.json"))
	for _, p := range rep.Peers {
		if p.Status != catchup.StatusCaughtUp || p.Fetched != 0 {
			t.Fatalf("second run: %+v, want caught up with nothing new", p)
		}
	}
	byPeer, run := split(t, parseEMF(t, f.metrics.Bytes()))
	for _, peer := range []string{"alpha", "beta"} {
		got := pick(byPeer[peer], "Fetched", "Applied", "Pages", "WatermarkLagSeconds", "Backlog", "PeerFailed")
		want := map[string]float64{"Fetched": 0, "Applied": 0, "Pages": 1, "WatermarkLagSeconds": 0, "Backlog": 0, "PeerFailed": 0}
		if diff := cmp.Diff(want, got, nanEqual); diff != "" {
			t.Errorf("%s (-want +got):\n%s", peer, diff)
		}
	}
	if run.metrics["Peers"] != 2 || run.metrics["RunFailedPeers"] != 0 || run.metrics["DeadlineMarginMs"] <= 0 {
		t.Errorf("run line = %v", run.metrics)
	}
	f.metrics.Reset()
	f.must(t, eventFile(t, "list-quarantine.json"), nil)
	f.must(t, eventFile(t, "registry-list.json"), nil)
	if f.metrics.Len() != 0 {
		t.Errorf("operator actions emitted metrics: %s", f.metrics)
	}
}

// PEERS may be [] when the registry holds the mesh; an empty registry then
// makes a run over no peer, which succeeds and still reports. Without the
// registry, an empty PEERS is a configuration error.
func TestEmptyMesh(t *testing.T) {
	if _, err := loadConfig(mapEnv(opsEnv("[]", map[string]string{"PEER_REGISTRY": "false"}))); err == nil ||
		!strings.HasPrefix(err.Error(), "PEERS:") {
		t.Errorf("PEERS=[] without the registry: %v, want a PEERS error", err)
	}
	awsConfig(t)
	a, _ := newPassApp(t, opsEnv("[]", nil))
	var out bytes.Buffer
	a.metrics = &out
	res, err := a.handle(context.Background(), eventFile(t, "scheduled.json"))
	if err != nil {
		t.Fatalf("empty run: %v", err)
	}
	if b, _ := json.Marshal(res); !bytes.Contains(b, []byte(`"peers":[]`)) {
		t.Errorf("report %s, want an empty peers array", b)
	}
	lines := parseEMF(t, out.Bytes())
	if len(lines) != 1 || lines[0].metrics["Peers"] != 0 {
		t.Errorf("metrics of an empty run: %+v", lines)
	}
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// One summary line per peer per run and one per failure, each with the
// Lambda request id; never the API key nor a row's content.
func TestRunLogs(t *testing.T) {
	cfg := awsConfig(t)
	secret := fmt.Sprintf("ops-logs/%d", time.Now().UnixNano())
	createSecret(t, cfg, secret, `{"api_key":"k3y-that-must-not-leak"}`)
	rows := peertest.Sample(12, 5, 2)
	_, keyed := peertest.NewHTTPTest(t, peertest.WithAPIKey("k3y-that-must-not-leak"), peertest.WithRows(rows))
	ps, _ := json.Marshal([]map[string]string{
		{"id": "keyed", "url": keyed.URL, "secret_id": secret},
		{"id": "down", "url": "http://127.0.0.1:1"},
	})
	a, logs := newPassApp(t, opsEnv(string(ps), map[string]string{"PEER_REGISTRY": "false"}))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-7f3a"})
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := a.handle(ctx, eventFile(t, "scheduled.json")); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["request_id"] != "req-7f3a" {
			t.Errorf("log line without the request id: %s", line)
		}
		counts[fmt.Sprint(rec["msg"], " ", rec["peer"])]++
	}
	want := map[string]int{"peer done keyed": 1, "peer failed down": 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("log lines by message and peer (-want +got):\n%s", diff)
	}
	leaks := []string{"k3y-that-must-not-leak"}
	for _, r := range rows {
		leaks = append(leaks, r["content"].(string))
	}
	for _, leak := range leaks {
		if bytes.Contains(logs.Bytes(), []byte(leak)) {
			t.Errorf("the logs hold %q", leak)
		}
	}
}
