package main

// The Lambda path end to end, on a machine without Docker or the sam CLI:
// bootstrap built as sam build builds it, run under the Runtime Interface
// Emulator (what `sam local invoke` runs in its container), invoked with every
// payload of events/ against moto and fake peers.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/aimemory/catchup/internal/awstest"
	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/config"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/metrics/emftest"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/watermark"
)

// awsConfig returns the SDK configuration of the moto server .ci/run starts.
// Without an endpoint the test is skipped on a laptop and fails under CI=true.
func awsConfig(t *testing.T) aws.Config {
	t.Helper()
	awstest.Endpoint(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed: the test builds bootstrap with the Makefile target sam build runs")
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(awstest.Region()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// lambdaFixture is one deployment in miniature: tables, a secret, two peers.
type lambdaFixture struct {
	store        *ddbstore.Store
	env          map[string]string // the function's variables, as the template declares them
	alpha, beta  *peertest.Server
	alphaInvalid []string // ids of alpha's rows that break docs/protocol.md §5
	valid        int      // valid rows across both peers
	close        func()   // takes both peers down
}

func newLambdaFixture(t *testing.T, cfg aws.Config) *lambdaFixture {
	t.Helper()
	ctx := context.Background()
	suffix := fmt.Sprintf("%d-%d", time.Now().UnixNano(), rand.IntN(1e6))
	client := dynamodb.NewFromConfig(cfg)
	var store *ddbstore.Store
	mem, state := awstest.FreshTables(t, client, "catchup-e2e", func(ctx context.Context, mem, state string) error {
		store = ddbstore.New(client, mem, state, time.Now)
		return store.CreateTables(ctx)
	})
	secret := "catchup-e2e/beta-" + suffix
	_, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(secret), SecretString: aws.String(`{"api_key":"beta-key"}`)})
	if err != nil {
		t.Fatal(err)
	}
	alphaRows := peertest.Sample(40, 1, 3)
	alpha, alphaTS := peertest.NewHTTPTest(t, peertest.WithRows(alphaRows))
	beta, betaTS := peertest.NewHTTPTest(t, peertest.WithAPIKey("beta-key"), peertest.WithRows(peertest.Backlog(25, 2, 4, true)))
	f := &lambdaFixture{store: store, alpha: alpha, beta: beta, close: func() { alphaTS.Close(); betaTS.Close() }}
	for _, r := range alphaRows {
		if title, _ := r["title"].(string); strings.TrimSpace(title) == "" || r["priority"] == 11 {
			f.alphaInvalid = append(f.alphaInvalid, r["id"].(string))
		}
	}
	f.valid = 40 - len(f.alphaInvalid) + 25
	peersJSON, _ := json.Marshal([]map[string]string{
		{"id": "alpha", "url": alphaTS.URL},
		{"id": "beta", "url": betaTS.URL, "secret_id": secret},
	})
	values := map[string]string{
		"LOCAL_AGENT_ID": "agent-e2e", "PEERS": string(peersJSON), "MEMORIES_TABLE": mem, "STATE_TABLE": state,
		"PAGE_LIMIT": "10", "AWS_ENDPOINT_URL": os.Getenv("AWS_ENDPOINT_URL"),
	}
	// Every variable the template sets (config.Vars and the SDK's endpoint:
	// internal/deploycheck holds the template to that list), as in AWS.
	f.env = map[string]string{"AWS_ENDPOINT_URL": values["AWS_ENDPOINT_URL"]}
	for _, cv := range config.Vars {
		v, ok := values[cv.Name]
		if !ok {
			v, ok = cv.Default, cv.Default != ""
		}
		if !ok {
			t.Fatalf("%s is required and has no value here; give it one", cv.Name)
		}
		f.env[cv.Name] = v
	}
	return f
}

// environ is what the emulator (and through it the function) sees: the
// function's variables, the SDK's from the test's environment, and the
// emulator's own.
func (f *lambdaFixture) environ() []string {
	var env []string
	for k, v := range f.env {
		env = append(env, k+"="+v)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") && !strings.HasPrefix(k, "AWS_LAMBDA_") && f.env[k] == "" {
			env = append(env, kv)
		}
	}
	if os.Getenv("AWS_REGION") == "" {
		env = append(env, "AWS_REGION=us-east-1")
	}
	return append(env, "AWS_LAMBDA_FUNCTION_NAME="+functionID, "AWS_LAMBDA_FUNCTION_TIMEOUT=60",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512")
}

// runResult is the handler's answer to a run: the report.
type runResult struct {
	Peers  []catchup.PeerReport `json:"peers"`
	DryRun bool                 `json:"dry_run"`
}

func (r runResult) peer(t *testing.T, id string) catchup.PeerReport {
	t.Helper()
	for _, p := range r.Peers {
		if p.Peer == id {
			return p
		}
	}
	t.Fatalf("report has no peer %s: %+v", id, r.Peers)
	return catchup.PeerReport{}
}

func (r runResult) ids() []string {
	var ids []string
	for _, p := range r.Peers {
		ids = append(ids, p.Peer)
	}
	slices.Sort(ids)
	return ids
}

func eventFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonObject(b []byte, v any) bool { return json.Unmarshal(b, v) == nil }

// TestLambdaEndToEnd invokes every file of events/, one at a time and in an
// order that makes each meaningful, and checks each answer and what landed.
func TestLambdaEndToEnd(t *testing.T) {
	cfg := awsConfig(t)
	dir := t.TempDir()
	bootstrap := buildBootstrap(t, filepath.Join(dir, runtime.GOARCH), runtime.GOARCH)
	f := newLambdaFixture(t, cfg)
	em := startEmulator(t, buildRIE(t, dir), bootstrap, f.environ())
	ctx := context.Background()

	run := func(t *testing.T, file string) runResult {
		t.Helper()
		body, fnErr := em.invoke(t, eventFile(t, file))
		var res runResult
		if fnErr != "" || !jsonObject(body, &res) || res.Peers == nil {
			t.Fatalf("%s: want a report with peers, got error %q, body %s", file, fnErr, body)
		}
		for _, p := range res.Peers {
			if p.Status == catchup.StatusFailed {
				t.Errorf("%s: peer %s failed: %s", file, p.Peer, p.Error)
			}
		}
		return res
	}
	operate := func(t *testing.T, file string) []byte {
		t.Helper()
		body, fnErr := em.invoke(t, eventFile(t, file))
		if fnErr != "" {
			t.Fatalf("%s: %s", file, fnErr)
		}
		return body
	}
	memories := func(t *testing.T) int {
		t.Helper()
		all, err := f.store.ScanMemories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	mark := func(t *testing.T, peer string) watermark.Mark {
		t.Helper()
		m, err := f.store.Watermark(ctx, peer)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	steps := []struct {
		file  string
		check func(t *testing.T)
	}{
		{"dry-run.json", func(t *testing.T) {
			res := run(t, "dry-run.json")
			if !res.DryRun || !slices.Equal(res.ids(), []string{"alpha", "beta"}) {
				t.Errorf("dry run report: dry_run %v, peers %v", res.DryRun, res.ids())
			}
			if got := res.peer(t, "alpha").Applied + res.peer(t, "beta").Applied; got != f.valid {
				t.Errorf("dry run would apply %d rows, want %d", got, f.valid)
			}
			if n := memories(t); n != 0 || mark(t, "alpha").Value != "" || mark(t, "beta").Value != "" {
				t.Errorf("dry run wrote: %d memories, watermarks %q %q", n, mark(t, "alpha").Value, mark(t, "beta").Value)
			}
		}},
		{"run-peers.json", func(t *testing.T) {
			res := run(t, "run-peers.json")
			a := res.peer(t, "alpha")
			if len(res.Peers) != 1 || a.Status != catchup.StatusCaughtUp || a.Invalid != len(f.alphaInvalid) {
				t.Errorf("alpha only: %+v", res.Peers)
			}
			if n := memories(t); n != a.Applied || n != 40-len(f.alphaInvalid) {
				t.Errorf("%d memories, alpha applied %d, want %d", n, a.Applied, 40-len(f.alphaInvalid))
			}
			if mark(t, "alpha").Value != a.Watermark || a.Watermark == "" || mark(t, "beta").Value != "" {
				t.Errorf("watermarks alpha %q (report %q), beta %q", mark(t, "alpha").Value, a.Watermark, mark(t, "beta").Value)
			}
		}},
		{"scheduled.json", func(t *testing.T) {
			res := run(t, "scheduled.json")
			if a, b := res.peer(t, "alpha"), res.peer(t, "beta"); a.Applied != 0 || b.Applied != 25 || b.Status != catchup.StatusCaughtUp {
				t.Errorf("scheduled: alpha applied %d (want 0), beta %+v", a.Applied, b)
			}
			if n := memories(t); n != f.valid {
				t.Errorf("%d memories, want %d", n, f.valid)
			}
		}},
		{"reconcile.json", func(t *testing.T) {
			// Every served version landed in the scheduled run: a reconcile
			// repairs nothing and finds nothing to delete.
			var rec catchup.ReconcileReport
			if err := json.Unmarshal(operate(t, "reconcile.json"), &rec); err != nil {
				t.Fatal(err)
			}
			if rec.LiveRows != f.valid || rec.Repaired != 0 || rec.DeletionCandidates != 0 || rec.Tombstoned != 0 || rec.Withheld != "" || len(rec.Peers) != 2 {
				t.Errorf("reconcile after a full pass: %+v, want %d live rows and nothing to do", rec, f.valid)
			}
		}},
		{"backfill.json", func(t *testing.T) {
			before := mark(t, "alpha")
			res := run(t, "backfill.json")
			if !slices.Equal(res.ids(), []string{"alpha"}) || mark(t, "alpha") != before {
				t.Errorf("backfill: peers %v; live watermark %+v, was %+v", res.ids(), mark(t, "alpha"), before)
			}
		}},
		{"list-quarantine.json", func(t *testing.T) {
			body := string(operate(t, "list-quarantine.json"))
			for _, id := range f.alphaInvalid {
				if !strings.Contains(body, id) {
					t.Errorf("quarantine list lacks %s: %s", id, body)
				}
			}
		}},
		{"replay-quarantine.json", func(t *testing.T) {
			operate(t, "replay-quarantine.json")
			// The rows are still invalid: replay keeps them quarantined.
			if n, err := f.store.QuarantineCount(ctx, "alpha"); err != nil || n != len(f.alphaInvalid) {
				t.Errorf("after replay, %d quarantined (%v), want %d", n, err, len(f.alphaInvalid))
			}
		}},
		{"reset-watermark.json", func(t *testing.T) {
			before := mark(t, "alpha")
			operate(t, "reset-watermark.json")
			hist, err := f.store.WatermarkHistory(ctx, "alpha")
			if err != nil {
				t.Fatal(err)
			}
			if got := mark(t, "alpha"); got.Value != "2026-05-01T00:00:00Z" || len(hist) != 1 || hist[0].Prev != before {
				t.Errorf("reset: watermark %+v, history %+v, previous %+v", got, hist, before)
			}
		}},
		{"registry-put.json", func(t *testing.T) {
			operate(t, "registry-put.json")
			if !registered(t, f.store, "gamma") {
				t.Error("gamma not in the registry")
			}
		}},
		{"registry-list.json", func(t *testing.T) {
			if body := operate(t, "registry-list.json"); !strings.Contains(string(body), "https://gamma.example.net") {
				t.Errorf("registry list lacks gamma: %s", body)
			}
		}},
		{"registry-delete.json", func(t *testing.T) {
			operate(t, "registry-delete.json")
			if registered(t, f.store, "gamma") {
				t.Error("gamma still in the registry")
			}
		}},
	}
	covered := map[string]bool{"env.json": true}
	for _, st := range steps {
		covered[st.file] = true
		if !t.Run(st.file, st.check) {
			t.FailNow() // later steps build on this one
		}
	}
	// Count the custom metrics the function printed under the emulator:
	// at most 6 per peer by default (issue 12), every line valid EMF.
	var emf []byte
	for _, line := range strings.Split(em.logs.String(), "\n") {
		if strings.HasPrefix(line, "{") && strings.Contains(line, `"_aws"`) {
			emf = append(append(emf, line...), '\n')
		}
	}
	perPeer := map[string]map[string]bool{}
	for _, l := range emftest.Parse(t, emf) {
		if p, ok := l.Dims["Peer"]; ok {
			if perPeer[p] == nil {
				perPeer[p] = map[string]bool{}
			}
			for name := range l.Metrics {
				perPeer[p][name] = true
			}
		}
	}
	if len(perPeer) == 0 {
		t.Error("the emulator's output holds no per-peer metrics")
	}
	for p, names := range perPeer {
		if len(names) > 6 {
			t.Errorf("peer %s: %d custom metrics under the emulator, want at most 6: %v", p, len(names), names)
		}
	}
	files, _ := filepath.Glob(filepath.Join(repoRoot, "events", "*.json"))
	for _, file := range files {
		if !covered[filepath.Base(file)] {
			t.Errorf("events/%s is not invoked by this test", filepath.Base(file))
		}
	}

	t.Run("every peer failing is an error", func(t *testing.T) {
		f.close()
		_, fnErr := em.invoke(t, eventFile(t, "scheduled.json"))
		if !strings.Contains(fnErr, "every peer failed") {
			t.Errorf("with both peers down, got error %q; want the run to fail (Errors metric, dead-letter queue)", fnErr)
		}
	})
	if ds := em.initDurations(); len(ds) != 1 {
		t.Errorf("%d cold starts, want 1 (clients are built once, then reused)", len(ds))
	}
}

func registered(t *testing.T, s *ddbstore.Store, id string) bool {
	t.Helper()
	ps, err := s.RegistryPeers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(ps, func(p ddbstore.RegisteredPeer) bool { return p.ID == id })
}
