package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/logging"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/watermark"
)

// fakeStore is Store in memory: watermarks with their reset history, the
// quarantine and the registry. The reconcile table is the runner's business
// (fakeRunner never calls it), so its methods only record that they ran.
type fakeStore struct {
	mu         sync.Mutex
	marks      map[string]watermark.Mark
	history    map[string][]ddbstore.HistoryEntry
	quarantine map[string][]replica.Quarantined
	registry   map[string]ddbstore.RegisteredPeer
	regErr     error // RegistryPeers fails with this when set
	now        time.Time
	tableCalls int
}

func newFakeStore() *fakeStore {
	return &fakeStore{marks: map[string]watermark.Mark{}, history: map[string][]ddbstore.HistoryEntry{},
		quarantine: map[string][]replica.Quarantined{}, registry: map[string]ddbstore.RegisteredPeer{},
		now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
}

func (s *fakeStore) ResetWatermark(_ context.Context, peer, to, reason string) (watermark.Mark, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.marks[peer]
	next := watermark.Mark{Value: to, Epoch: prev.Epoch + 1}
	s.marks[peer] = next
	s.history[peer] = append(s.history[peer], ddbstore.HistoryEntry{At: s.now, Prev: prev, New: next, Reason: reason})
	return prev, nil
}

func (s *fakeStore) WatermarkHistory(_ context.Context, peer string) ([]ddbstore.HistoryEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.history[peer]), nil
}

func (s *fakeStore) RegistryPeers(context.Context) ([]ddbstore.RegisteredPeer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.regErr != nil {
		return nil, s.regErr
	}
	out := make([]ddbstore.RegisteredPeer, 0, len(s.registry))
	for _, p := range s.registry {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *fakeStore) PutRegistryPeer(_ context.Context, p ddbstore.RegisteredPeer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registry[p.ID] = p
	return nil
}

func (s *fakeStore) DeleteRegistryPeer(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.registry, id)
	return nil
}

func (s *fakeStore) ListQuarantine(_ context.Context, peer string) ([]replica.Quarantined, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.quarantine[peer]), nil
}

func (s *fakeStore) DeleteQuarantine(_ context.Context, peer, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quarantine[peer] = slices.DeleteFunc(s.quarantine[peer], func(q replica.Quarantined) bool { return q.Key == key })
	return nil
}

func (s *fakeStore) ScanVersions(context.Context, int, func(replica.Version)) error {
	s.tableCalls++
	return nil
}

func (s *fakeStore) VersionOf(replica.Memory) (replica.Version, error) {
	s.tableCalls++
	return replica.Version{}, errors.New("fakeStore: no table")
}

func (s *fakeStore) Tombstone(context.Context, replica.Version, time.Time, time.Time) error {
	s.tableCalls++
	return errors.New("fakeStore: no table")
}

// fakeRunner records what the handler asks for and answers with a report
// per peer whose status comes from status (caught_up by default).
type fakeRunner struct {
	passes     []catchup.Pass
	replays    []string // "peer dry=bool"
	reconciles []catchup.Reconcile
	recOpts    []catchup.ReconcileOptions
	status     map[string]string
	recErr     string
	replayedBy catchup.Quarantine
}

func (r *fakeRunner) Run(_ context.Context, pass catchup.Pass) catchup.Report {
	r.passes = append(r.passes, pass)
	rep := catchup.Report{DryRun: pass.DryRun}
	for _, p := range pass.Peers {
		st := r.status[p.ID]
		if st == "" {
			st = catchup.StatusCaughtUp
		}
		pr := catchup.PeerReport{Peer: p.ID, Status: st, Watermark: "2026-12-01T00:00:00Z"}
		if st == catchup.StatusFailed {
			pr.Error = "peer " + p.ID + " down"
		}
		rep.Peers = append(rep.Peers, pr)
	}
	return rep
}

func (r *fakeRunner) Replay(_ context.Context, q catchup.Quarantine, peer string, dryRun bool) catchup.ReplayReport {
	r.replayedBy = q
	r.replays = append(r.replays, peer+map[bool]string{true: " dry", false: ""}[dryRun])
	return catchup.ReplayReport{Peer: peer}
}

func (r *fakeRunner) Reconcile(_ context.Context, _ catchup.Table, rc catchup.Reconcile, opt catchup.ReconcileOptions) catchup.ReconcileReport {
	r.reconciles = append(r.reconciles, rc)
	r.recOpts = append(r.recOpts, opt)
	return catchup.ReconcileReport{DryRun: rc.DryRun, Error: r.recErr}
}

// fixture is a Handler over the fakes, with two peers in PEERS.
type fixture struct {
	h       *Handler
	store   *fakeStore
	runner  *fakeRunner
	logs    bytes.Buffer
	metrics bytes.Buffer
	env     map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: newFakeStore(), runner: &fakeRunner{}, env: map[string]string{}}
	ps, err := peers.ParsePeers(`[{"id":"alpha","url":"https://alpha.example.net"},{"id":"beta","url":"https://beta.example.net"}]`)
	if err != nil {
		t.Fatal(err)
	}
	f.h = &Handler{Store: f.store, Runner: f.runner, Peers: ps, PeerRegistry: true,
		Lookup:  func(k string) (string, bool) { v, ok := f.env[k]; return v, ok },
		Log:     logging.New(&f.logs, logging.LevelTrace, logging.Fields{Service: "catchup"}),
		Metrics: &f.metrics, FunctionName: "fn",
		Now: func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }}
	return f
}

// do sends payload through Handle and returns its result as JSON.
func (f *fixture) do(t *testing.T, payload string) (map[string]any, error) {
	t.Helper()
	res, err := f.h.Handle(context.Background(), json.RawMessage(payload))
	if res == nil {
		return nil, err
	}
	b, mErr := json.Marshal(res)
	if mErr != nil {
		t.Fatal(mErr)
	}
	var m map[string]any
	if uErr := json.Unmarshal(b, &m); uErr != nil {
		t.Fatal(uErr)
	}
	return m, err
}

func (f *fixture) ok(t *testing.T, payload string) map[string]any {
	t.Helper()
	m, err := f.do(t, payload)
	if err != nil {
		t.Fatalf("%s: %v", payload, err)
	}
	return m
}

func peerIDs(ps []peers.Peer) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func replicaMark(v string, epoch int64) watermark.Mark { return watermark.Mark{Value: v, Epoch: epoch} }
