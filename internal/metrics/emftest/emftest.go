// Package emftest checks Embedded Metric Format lines against the CloudWatch
// specification ("Specification: Embedded metric format") and decodes them,
// for the tests of the metrics and of the function that prints them.
package emftest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/metrics"
)

// emfUnits are the units the EMF specification accepts.
var emfUnits = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None"}

// Line is one decoded EMF record: its dimensions and metric values.
type Line struct {
	Dims    map[string]string
	Metrics map[string]float64
}

// Parse checks every line of out against the EMF specification (CloudWatch
// "Specification: Embedded metric format") and returns them decoded.
func Parse(t *testing.T, out []byte) []Line {
	t.Helper()
	var lines []Line
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, checkEMF(t, sc.Bytes()))
	}
	return lines
}

func checkEMF(t *testing.T, raw []byte) Line {
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
	line := Line{Dims: map[string]string{}, Metrics: map[string]float64{}}
	for _, d := range directives {
		checkDirective(t, root, d.(map[string]any), &line)
	}
	return line
}

func checkDirective(t *testing.T, root, d map[string]any, line *Line) {
	t.Helper()
	if len(d) != 3 || d["Namespace"] != metrics.Namespace {
		t.Errorf("directive must hold exactly Namespace %q, Dimensions, Metrics: %v", metrics.Namespace, d)
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
			line.Dims[k.(string)] = v
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
		if !slices.Contains(metrics.PeerStandard, name) && !slices.Contains(metrics.PeerDetail, name) &&
			!slices.Contains(metrics.Run, name) && !slices.Contains(metrics.Reconcile, name) {
			t.Errorf("metric %q is not in metrics.PeerStandard, PeerDetail, Run or Reconcile (the template drift test reads those)", name)
		}
		line.Metrics[name] = v
	}
}

// Split separates the per-peer lines (by peer) from the run line.
func Split(t *testing.T, lines []Line) (map[string]Line, Line) {
	t.Helper()
	peers := map[string]Line{}
	var run []Line
	for _, l := range lines {
		if p, ok := l.Dims["Peer"]; ok {
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

// Pick returns the named values of a line; a missing metric is NaN.
func Pick(l Line, names ...string) map[string]float64 {
	out := map[string]float64{}
	for _, n := range names {
		v, ok := l.Metrics[n]
		if !ok {
			v = math.NaN()
		}
		out[n] = v
	}
	return out
}

// NaNEqual compares floats, NaN equal to NaN (a missing metric).
var NaNEqual = cmp.Comparer(func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) })
