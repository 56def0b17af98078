package main

// One pass end to end, in process: the real peer client, Secrets Manager and
// DynamoDB (moto), against fake peers of every generation and failure.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/awstest"
	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/config"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/stamp"
)

// passFixture is a mesh of fake peers and an app wired to moto.
type passFixture struct {
	app  *app
	logs *bytes.Buffer
	rows map[string][]map[string]any // every version served, by id
}

// newPassApp builds the app as main does, from an environment, with logs
// captured, on a fresh pair of tables (awstest.FreshTables, dropped when t
// ends) whatever env names.
func newPassApp(t *testing.T, env map[string]string) (*app, *bytes.Buffer) {
	t.Helper()
	client := dynamodb.NewFromConfig(awsConfig(t))
	env = maps.Clone(env)
	env["MEMORIES_TABLE"], env["STATE_TABLE"] = awstest.FreshTables(t, client, "catchup-fn", func(ctx context.Context, mem, state string) error {
		return ddbstore.New(client, mem, state, time.Now).CreateTables(ctx)
	})
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)), false, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return a, logs
}

func createSecret(t *testing.T, cfg aws.Config, name, value string) {
	t.Helper()
	_, err := secretsmanager.NewFromConfig(cfg).CreateSecret(context.Background(),
		&secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPassEndToEnd(t *testing.T) {
	cfg := awsConfig(t)
	suffix := fmt.Sprint(time.Now().UnixNano())
	createSecret(t, cfg, "pass-e2e/big-"+suffix, `{"api_key":"big-key"}`)
	createSecret(t, cfg, "pass-e2e/wrong-"+suffix, "not-the-key")

	served := map[string][]map[string]any{}
	serve := func(rows []map[string]any) []map[string]any {
		for _, r := range rows {
			served[r["id"].(string)] = append(served[r["id"].(string)], r)
		}
		return rows
	}
	// big: a 1,200-row backlog in tie groups of 7 that pages of 100 cut, newest generation.
	_, big := peertest.NewHTTPTest(t, peertest.WithAPIKey("big-key"), peertest.WithRows(serve(peertest.Backlog(1200, 11, 7, true))))
	// mixed: v0.7, invalid rows, and older versions of big's memories (stale).
	mixedRows := peertest.Sample(60, 12, 3)
	for i := 0; i < 30; i++ {
		old := peertest.Memory(fmt.Sprintf("bl-%05d", i), "2020-01-01T00:00:00Z")
		mixedRows = append(mixedRows, old)
	}
	mixedPeer, mixed := peertest.NewHTTPTest(t, peertest.WithGeneration(peertest.V07), peertest.WithRows(serve(mixedRows)))
	// old: a v0.6 peer.
	_, old := peertest.NewHTTPTest(t, peertest.WithGeneration(peertest.V06), peertest.WithRows(serve(peertest.Sample(30, 13, 2))))
	// wrongkey: its secret holds the wrong key.
	_, wrongkey := peertest.NewHTTPTest(t, peertest.WithAPIKey("right-key"), peertest.WithRows(peertest.Sample(10, 14, 1)))

	peersJSON, _ := json.Marshal([]map[string]string{
		{"id": "big", "url": big.URL + "/api/v1/sync/push", "secret_id": "pass-e2e/big-" + suffix},
		{"id": "down", "url": "http://127.0.0.1:1"},
		{"id": "wrongkey", "url": wrongkey.URL + "/", "secret_id": "pass-e2e/wrong-" + suffix},
		{"id": "mixed", "url": mixed.URL},
		{"id": "old", "url": old.URL},
	})
	a, logs := newPassApp(t, map[string]string{
		"LOCAL_AGENT_ID": "e2e-replica", "PEERS": string(peersJSON), "PAGE_LIMIT": "100",
		"PEER_REGISTRY": "false", "REQUEST_TIMEOUT": "5s",
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	res, err := a.Handle(ctx, json.RawMessage(`{}`))
	if err != nil {
		t.Fatalf("handle: %v", err)
	}
	rep := res.(*catchup.Report)
	got := map[string]string{}
	for _, p := range rep.Peers {
		got[p.Peer] = p.Status + "/" + p.ErrorClass
	}
	want := map[string]string{"big": "caught_up/", "down": "failed/unreachable", "wrongkey": "failed/rejected",
		"mixed": "caught_up/", "old": "caught_up/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	assertNewestLanded(t, a.store, served)
	assertQuarantined(t, a.store, map[string]int{"mixed": 2, "old": 2, "big": 0})
	if bytes.Contains(logs.Bytes(), []byte("big-key")) || bytes.Contains(logs.Bytes(), []byte("not-the-key")) {
		t.Error("a key appears in the logs")
	}

	// Versions newer than mixed's watermark but older than big's: stale.
	for i := 1100; i < 1130; i++ {
		mixedPeer.Put(peertest.Memory(fmt.Sprintf("bl-%05d", i), "2026-06-01T10:00:30Z"))
	}
	res, err = a.Handle(ctx, json.RawMessage(`{}`))
	if err != nil {
		t.Fatalf("second handle: %v", err)
	}
	for _, p := range res.(*catchup.Report).Peers {
		if p.Applied != 0 {
			t.Errorf("second pass applied %d rows from %s", p.Applied, p.Peer)
		}
		if p.Peer == "mixed" && (p.Stale != 30 || p.Status != catchup.StatusCaughtUp) {
			t.Errorf("second pass from mixed = %+v, want 30 stale", p)
		}
	}
	assertNewestLanded(t, a.store, served)
}

// assertNewestLanded checks that every id's newest valid version, by instant,
// is what the table holds.
func assertNewestLanded(t *testing.T, store *ddbstore.Store, served map[string][]map[string]any) {
	t.Helper()
	items, err := store.ScanMemories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, it := range items {
		have[it.ID] = it.UpdatedAt
	}
	for id, versions := range served {
		var best time.Time
		wantAt := ""
		for _, v := range versions {
			at, _ := v["updated_at"].(string)
			ts, err := stamp.Parse(at)
			if err != nil || !validSample(v) {
				continue
			}
			if wantAt == "" || ts.After(best) {
				best, wantAt = ts, at
			}
		}
		if wantAt == "" {
			continue
		}
		// At one instant the version with more fields, then the larger
		// digest, wins (docs/protocol.md §6; ddbstore's tests pin that
		// order): any text of the newest instant is the newest version.
		if at, err := stamp.Parse(have[id]); have[id] != wantAt && (err != nil || !at.Equal(best)) {
			t.Errorf("memory %s: table has %q, want newest %q", id, have[id], wantAt)
		}
	}
}

// validSample tells the two kinds of invalid rows peertest.Sample makes.
func validSample(v map[string]any) bool {
	if p, ok := v["priority"].(int); ok && (p < 1 || p > 10) {
		return false
	}
	if s, ok := v["title"].(string); ok && len(bytes.TrimSpace([]byte(s))) == 0 {
		return false
	}
	return true
}

func assertQuarantined(t *testing.T, store *ddbstore.Store, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for peer := range want {
		qs, err := store.ListQuarantine(context.Background(), peer)
		if err != nil {
			t.Fatal(err)
		}
		got[peer] = len(qs)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("quarantined rows by peer (-want +got):\n%s", diff)
	}
}
