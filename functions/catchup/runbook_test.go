package main

// What docs/operations.md promises about peers that fail, keys that rotate
// and peers late in the list, through the handler against moto.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/fakeclock"
	"github.com/aimemory/catchup/internal/metrics/emftest"
	"github.com/aimemory/catchup/internal/peertest"
)

// A peer that keeps failing is skipped until its retry time, its failure
// count feeding the PeerFailing alarm meanwhile; naming it pulls it anyway;
// once fixed it comes back by itself.
func TestBreakerThroughHandler(t *testing.T) {
	f := newOpsFixture(t, nil)
	f.beta.SetAPIKey("beta-wants-a-key") // and PEERS gives it none: 401, rejected
	betaRequests := func() int { return len(f.beta.Requests()) }
	for run := 1; run <= 3; run++ {
		b := peerOf(t, f.run(t, eventFile(t, "scheduled.json")), "beta")
		if b.Status != catchup.StatusFailed || b.ErrorClass != catchup.ClassRejected || b.ConsecutiveFailures != run {
			t.Fatalf("run %d: beta %+v", run, b)
		}
	}
	f.metrics.Reset()
	before := betaRequests()
	rep := f.run(t, eventFile(t, "scheduled.json"))
	if b := peerOf(t, rep, "beta"); b.Status != catchup.StatusSkipped || betaRequests() != before || b.ConsecutiveFailures != 3 {
		t.Fatalf("4th run: beta %+v after %d new requests, want skipped without a request", b, betaRequests()-before)
	}
	if a := peerOf(t, rep, "alpha"); a.Status != catchup.StatusCaughtUp {
		t.Errorf("alpha suffers from beta's breaker: %+v", a)
	}
	if _, run := emftest.Split(t, emftest.Parse(t, f.metrics.Bytes())); run.Metrics["RunMaxConsecutiveFailures"] != 3 {
		t.Errorf("while beta is skipped, RunMaxConsecutiveFailures = %v, want 3 (PeerFailingAlarm keeps firing)", run.Metrics["RunMaxConsecutiveFailures"])
	}

	var named catchup.Report // every peer named failed: the run returns an error, and the report
	if err := f.invoke(t, []byte(`{"peers":["beta"]}`), &named); err == nil || betaRequests() == before {
		t.Errorf("naming beta: %v after %d new requests, want it tried despite the breaker, and failing", err, betaRequests()-before)
	}
	if b := peerOf(t, named, "beta"); b.Status != catchup.StatusFailed {
		t.Errorf("naming beta: %+v", b)
	}
	st, err := f.app.store.Breaker(context.Background(), "beta")
	if err != nil || st.Failures != 4 || !st.RetryAt.Equal(f.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("breaker after the named run = %+v (%v), want 4 failures, retry in 10m", st, err)
	}

	f.beta.SetAPIKey("") // fixed on the peer's side
	f.clock.Advance(10*time.Minute - time.Second)
	if b := peerOf(t, f.run(t, eventFile(t, "scheduled.json")), "beta"); b.Status != catchup.StatusSkipped {
		t.Errorf("a second before retry_at: beta %s, want skipped", b.Status)
	}
	f.clock.Advance(time.Second)
	if b := peerOf(t, f.run(t, eventFile(t, "scheduled.json")), "beta"); b.Status != catchup.StatusCaughtUp || b.Applied != 7 {
		t.Errorf("at retry_at: beta %+v, want pulled and caught up", b)
	}
	if st, err := f.app.store.Breaker(context.Background(), "beta"); err != nil || st != (replica.BreakerState{}) {
		t.Errorf("breaker after recovery = %+v (%v), want closed", st, err)
	}
}

// Rotating a key: update the secret, then the peer (or the other way
// round). A warm function still holding the old key gets a 401, fetches the
// secret again at once and retries: no run fails once both sides agree.
func TestKeyRotation(t *testing.T) {
	cfg := awsConfig(t)
	secret := fmt.Sprintf("ops-rotate/%d", time.Now().UnixNano())
	createSecret(t, cfg, secret, `{"api_key":"old-key"}`)
	peer, ts := peertest.NewHTTPTest(t, peertest.WithAPIKey("old-key"), peertest.WithRows(peertest.Backlog(4, 6, 1, false)))
	ps := fmt.Sprintf(`[{"id":"keyed","url":%q,"secret_id":%q}]`, ts.URL, secret)
	a, _ := newPassApp(t, opsEnv(ps, map[string]string{"PEER_REGISTRY": "false", "SECRET_TTL": "1h"}))
	ctx := context.Background()
	if rep := handleRun(t, a); rep.Peers[0].Status != catchup.StatusCaughtUp {
		t.Fatalf("before rotation: %+v", rep.Peers[0])
	}

	_, err := secretsmanager.NewFromConfig(cfg).PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(secret), SecretString: aws.String(`{"api_key":"new-key"}`)})
	if err != nil {
		t.Fatal(err)
	}
	peer.SetAPIKey("new-key")
	peer.Put(peertest.Memory("after-rotation", "2026-07-01T00:00:00Z"))
	peer.ClearRequests()
	rep := handleRun(t, a)
	if p := rep.Peers[0]; p.Status != catchup.StatusCaughtUp || p.Applied != 1 {
		t.Errorf("after rotation, with the old key cached for an hour: %+v", p)
	}
	var matched []bool
	for _, r := range peer.Requests() {
		matched = append(matched, r.KeyMatched)
	}
	if len(matched) != 2 || matched[0] || !matched[1] {
		t.Errorf("requests after rotation matched the key: %v, want [false true] (one 401, one retry)", matched)
	}
}

func handleRun(t *testing.T, a *app) *catchup.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := a.Handle(ctx, eventFile(t, "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	return res.(*catchup.Report)
}

// firstPulled records, across the fake peers of a mesh, which peer each run
// asked first.
type firstPulled struct {
	mu    sync.Mutex
	first string
}

func (fp *firstPulled) hook(id string) peertest.FaultFunc {
	return func(*http.Request, int) peertest.Fault {
		fp.mu.Lock()
		if fp.first == "" {
			fp.first = id
		}
		fp.mu.Unlock()
		return peertest.Slow(40 * time.Millisecond)
	}
}

func (fp *firstPulled) take() string {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	first := fp.first
	fp.first = ""
	return first
}

// Five slow peers with long backlogs, one pulled at a time, and a deadline
// that leaves time for a few pages of one: across runs, every peer gets to
// go first, so none is starved by its place in the list. The runs are 7
// hours apart so that no circuit breaker holds a peer back (see
// docs/operations.md on peers the deadline kept from starting).
func TestRotationStarvesNoPeer(t *testing.T) {
	awsConfig(t)
	fp := &firstPulled{}
	var urls []string
	for i := range 5 {
		id := fmt.Sprintf("r%d", i)
		_, ts := peertest.NewHTTPTest(t, peertest.WithRows(peertest.Backlog(200, int64(i), 1, false)), peertest.WithFaultFunc(fp.hook(id)))
		urls = append(urls, id, ts.URL)
	}
	a, _ := newPassApp(t, opsEnv(peersJSON(t, urls...), map[string]string{
		"PEER_REGISTRY": "false", "PEER_CONCURRENCY": "1", "DEADLINE_MARGIN": "1s"}))
	clock := fakeclock.New(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	withClock(t, a, clock.Now)
	a.Metrics = &bytes.Buffer{}
	firsts := map[string]int{}
	for run := 0; run < 20 && len(firsts) < 5; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		_, _ = a.Handle(ctx, eventFile(t, "scheduled.json"))
		cancel()
		if first := fp.take(); first != "" {
			firsts[first]++
		}
		clock.Advance(7 * time.Hour)
	}
	if len(firsts) != 5 {
		t.Errorf("peers pulled first over the runs: %v; want all five", firsts)
	}
}
