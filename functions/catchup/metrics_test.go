package main

// The metrics in Embedded Metric Format and the log lines of a run: valid
// EMF by the specification, the values the alarms read, emitted on runs with
// nothing to do and never for dry runs; one log line per peer, one per
// failure, the request id on each, and never a key or a row's content.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/config"
	"github.com/aimemory/catchup/internal/metrics/emftest"
	"github.com/aimemory/catchup/internal/peertest"
)

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
	byPeer, run := emftest.Split(t, emftest.Parse(t, f.metrics.Bytes()))
	for _, peer := range []string{"alpha", "beta"} {
		got := emftest.Pick(byPeer[peer], "Applied", "WatermarkLagSeconds", "PeerFailed", "Fetched", "Pages")
		// PEER_METRICS=standard: the detail is in the run line only.
		want := map[string]float64{"Applied": 0, "WatermarkLagSeconds": 0, "PeerFailed": 0, "Fetched": math.NaN(), "Pages": math.NaN()}
		if diff := cmp.Diff(want, got, emftest.NaNEqual); diff != "" {
			t.Errorf("%s (-want +got):\n%s", peer, diff)
		}
	}
	if m := run.Metrics; m["Peers"] != 2 || m["RunFailedPeers"] != 0 || m["DeadlineMarginMs"] <= 0 || m["RunPages"] != 2 || m["RunFetched"] != 0 {
		t.Errorf("run line = %v", m)
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
	if _, err := config.Load(mapEnv(opsEnv("[]", map[string]string{"PEER_REGISTRY": "false"}))); err == nil ||
		!strings.HasPrefix(err.Error(), "PEERS:") {
		t.Errorf("PEERS=[] without the registry: %v, want a PEERS error", err)
	}
	awsConfig(t)
	a, _ := newPassApp(t, opsEnv("[]", nil))
	var out bytes.Buffer
	a.Metrics = &out
	res, err := a.Handle(context.Background(), eventFile(t, "scheduled.json"))
	if err != nil {
		t.Fatalf("empty run: %v", err)
	}
	if b, _ := json.Marshal(res); !bytes.Contains(b, []byte(`"peers":[]`)) {
		t.Errorf("report %s, want an empty peers array", b)
	}
	lines := emftest.Parse(t, out.Bytes())
	if len(lines) != 1 || lines[0].Metrics["Peers"] != 0 {
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
	if _, err := a.Handle(ctx, eventFile(t, "scheduled.json")); err != nil {
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
