package deploycheck

// The files around template.yaml: its alarms against the metrics the code
// emits, events/ against the payloads event.Parse accepts, events/env.json and
// samconfig.toml against the template's variables and parameters.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/aimemory/catchup/internal/config"
	"github.com/aimemory/catchup/internal/event"
	"github.com/aimemory/catchup/internal/metrics"
	"github.com/aimemory/catchup/internal/peers"
)

func TestTemplateAlarmsWatchEmittedMetrics(t *testing.T) {
	tp := loadTemplate(t)
	alarmed := map[string]*yaml.Node{}
	for _, id := range tp.resourcesOf("AWS::CloudWatch::Alarm") {
		a := get(tp.resource(id), "Properties")
		ns, metric := text(get(a, "Namespace")), text(get(a, "MetricName"))
		alarmed[ns+" "+metric] = a
		if ns != metrics.Namespace {
			continue
		}
		dims := get(a, "Dimensions")
		on := func(fn string) bool {
			return dims != nil && len(dims.Content) == 1 &&
				text(get(dims.Content[0], "Name")) == "FunctionName" &&
				text(get(dims.Content[0], "Value")) == "!Ref "+fn
		}
		switch {
		case slices.Contains(metrics.Run, metric) && on("CatchupFunction"):
		case slices.Contains(metrics.Reconcile, metric) && on("ReconcileFunction"):
		default:
			t.Errorf("alarm %s watches %s %s with dimensions %s: the code emits no such metric", id, ns, metric, text(dims))
		}
	}
	tests := []struct{ metric, missing string }{
		{"AWS/Lambda Errors", "notBreaching"},
		{"AWS/Lambda Throttles", "notBreaching"},
		{"AWS/SQS ApproximateNumberOfMessagesVisible", "notBreaching"},
		{metrics.Namespace + " RunMaxConsecutiveFailures", "notBreaching"},
		{metrics.Namespace + " RunStalledPeers", "notBreaching"},
		{metrics.Namespace + " QuarantinedRows", "notBreaching"},
		// No metric means no run: the lag alarm doubles as the heartbeat.
		{metrics.Namespace + " RunMaxLagSeconds", "breaching"},
	}
	for _, tt := range tests {
		a := alarmed[tt.metric]
		if a == nil {
			t.Errorf("no alarm on %s", tt.metric)
			continue
		}
		if got := text(get(a, "TreatMissingData")); got != tt.missing {
			t.Errorf("alarm on %s: TreatMissingData %s, want %s", tt.metric, got, tt.missing)
		}
		if got := text(get(a, "AlarmActions")); !strings.Contains(got, "HasAlarmTopic") {
			t.Errorf("alarm on %s: AlarmActions %s, want !If HasAlarmTopic", tt.metric, got)
		}
	}
	if got := text(get(alarmed[metrics.Namespace+" RunMaxConsecutiveFailures"], "Threshold")); got != "!Ref FailedRunsToAlarm" {
		t.Errorf("RunMaxConsecutiveFailures alarm Threshold = %s, want !Ref FailedRunsToAlarm", got)
	}
	if got := text(get(alarmed[metrics.Namespace+" RunMaxLagSeconds"], "Threshold")); got != "!Ref LagAlarmSeconds" {
		t.Errorf("RunMaxLagSeconds alarm Threshold = %s, want !Ref LagAlarmSeconds", got)
	}
}

// TestEventFiles parses every payload in events/ as the handler does. A new
// file must be added here, with what it asks for.
func TestEventFiles(t *testing.T) {
	alpha := []string{"alpha"}
	want := map[string]event.Payload{
		"scheduled.json":         {Action: event.Run},
		"run-peers.json":         {Action: event.Run, Peers: alpha},
		"dry-run.json":           {Action: event.Run, DryRun: true},
		"reconcile.json":         {Action: event.Reconcile},
		"backfill.json":          {Action: event.Backfill, Peers: alpha, From: "2026-05-01T00:00:00Z", To: "2026-05-02T00:00:00Z"},
		"reset-watermark.json":   {Action: event.ResetWatermark, Peers: alpha, Watermark: "2026-05-01T00:00:00Z", Reason: "re-pull May after the peer restored a backup"},
		"list-quarantine.json":   {Action: event.ListQuarantine, Peers: alpha, Limit: 100},
		"replay-quarantine.json": {Action: event.ReplayQuarantine, Peers: alpha},
		"registry-put.json":      {Action: event.RegistryPut, Peer: &event.PeerArg{ID: "gamma", URL: "https://gamma.example.net", SecretID: "catchup/gamma"}},
		"registry-list.json":     {Action: event.RegistryList},
		"registry-delete.json":   {Action: event.RegistryDelete, Peers: []string{"gamma"}},
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]event.Payload{}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "env.json" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Errorf("%s: not valid JSON", name)
			continue
		}
		ev, err := event.Parse(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got[name] = ev
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events/ payloads (-want +got):\n%s", diff)
	}
}

// TestEnvFile checks events/env.json, the variables `sam local invoke
// --env-vars` sets: keyed by the function's logical id, exactly the variables
// the template declares (SAM ignores the others), and a configuration
// loadConfig accepts.
func TestEnvFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	vars, ok := env[functionID]
	if !ok || len(env) != 1 {
		t.Fatalf("env.json keys %v, want only %q", mapKeys(env), functionID)
	}
	if diff := cmp.Diff(sorted(keys(loadTemplate(t).envVars())), sorted(mapKeys(vars))); diff != "" {
		t.Errorf("env.json variables differ from the template's (-want +got):\n%s", diff)
	}
	if _, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }); err != nil {
		t.Errorf("env.json is not a valid configuration: %v", err)
	}
}

// TestSamconfig checks the example deploy parameters: each names a template
// parameter, every parameter without a default is given, and the example
// PEERS is one the function accepts.
func TestSamconfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	toml := string(b)
	for _, setting := range []string{`version = 0.1`, `cached = true`, `parallel = true`, `capabilities = "CAPABILITY_IAM"`,
		`resolve_s3 = true`, `confirm_changeset = true`, `env_vars = "events/env.json"`} {
		if !strings.Contains(toml, setting) {
			t.Errorf("samconfig.toml lacks %s", setting)
		}
	}
	block := regexp.MustCompile(`(?s)parameter_overrides = \[\n(.*?)\n\]`).FindStringSubmatch(toml)
	if block == nil {
		t.Fatal("samconfig.toml has no parameter_overrides list")
	}
	given := map[string]string{}
	for _, line := range strings.Split(block[1], "\n") {
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(line), ","))
		if err != nil {
			t.Fatalf("parameter_overrides line %s: %v", line, err)
		}
		k, v, _ := strings.Cut(s, "=")
		given[k] = strings.Trim(v, "'") // SAM strips the quotes that protect spaces and JSON
	}
	tp := loadTemplate(t)
	for k := range given {
		if tp.param(k) == nil {
			t.Errorf("samconfig.toml overrides %s, which the template does not declare", k)
		}
	}
	for _, p := range keys(get(tp.root, "Parameters")) {
		if _, ok := given[p]; !ok && get(tp.param(p), "Default") == nil {
			t.Errorf("samconfig.toml lacks %s, which has no default", p)
		}
	}
	if _, err := peers.ParsePeers(given["Peers"]); err != nil {
		t.Errorf("samconfig.toml Peers: %v", err)
	}
}

func mapKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
