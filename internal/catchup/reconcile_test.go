package catchup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/row"
)

// verStore is a table in a map that orders versions as replica.Version does
// and keeps tombstones, for reconciles without DynamoDB.
type verStore struct {
	*memStore
	vmu   sync.Mutex
	vers  map[string]replica.Version
	puts  int
	tombs int
}

func newVerStore() *verStore {
	return &verStore{memStore: newMemStore(), vers: map[string]replica.Version{}}
}

func (s *verStore) VersionOf(m replica.Memory) (replica.Version, error) {
	if strings.HasPrefix(m.ID, "unwritable") {
		return replica.Version{}, replica.ErrUnwritable
	}
	raw, _ := json.Marshal(m.Fields)
	sum := sha256.Sum256(raw)
	return replica.Version{ID: m.ID, TS: m.Instant.UnixNano(), Digest: hex.EncodeToString(sum[:])}, nil
}

func (s *verStore) PutMemory(ctx context.Context, m replica.Memory) error {
	v, err := s.VersionOf(m)
	if err != nil {
		return err
	}
	s.vmu.Lock()
	defer s.vmu.Unlock()
	s.puts++
	if old, ok := s.vers[m.ID]; ok && !v.Newer(old) {
		return replica.ErrStale
	}
	s.vers[m.ID] = v
	return nil
}

func (s *verStore) WouldApply(ctx context.Context, m replica.Memory) (bool, error) {
	v, _ := s.VersionOf(m)
	s.vmu.Lock()
	defer s.vmu.Unlock()
	old, ok := s.vers[m.ID]
	return !ok || v.Newer(old), nil
}

func (s *verStore) ScanVersions(ctx context.Context, segments int, fn func(replica.Version)) error {
	s.vmu.Lock()
	vs := make([]replica.Version, 0, len(s.vers))
	for _, v := range s.vers {
		vs = append(vs, v)
	}
	s.vmu.Unlock()
	for _, v := range vs {
		fn(v)
	}
	return nil
}

func (s *verStore) Tombstone(ctx context.Context, v replica.Version, at, expires time.Time) error {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	cur, ok := s.vers[v.ID]
	if !ok || cur.Deleted || cur.TS != v.TS || !strings.HasPrefix(cur.Digest, v.Digest) {
		return replica.ErrStale
	}
	s.vers[v.ID] = replica.Version{ID: v.ID, TS: v.TS + 1, Deleted: true}
	s.tombs++
	return nil
}

// live is the ids the table holds live.
func (s *verStore) live() map[string]bool {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	out := map[string]bool{}
	for id, v := range s.vers {
		if !v.Deleted {
			out[id] = true
		}
	}
	return out
}

func reconcile(t *testing.T, src Source, st *verStore, rc Reconcile) ReconcileReport {
	t.Helper()
	r := New(src, st, Options{PageLimit: 7, Now: func() time.Time { return testNow }})
	rep := r.Reconcile(context.Background(), st, rc, ReconcileOptions{})
	b, _ := json.Marshal(rep)
	t.Logf("report: %s", b)
	return rep
}

// twoPeers serve 40 rows each, 30 of them in common; the table has all 50.
func twoPeers(t *testing.T) (multi, *verStore) {
	a, b := newFakePeer(1), newFakePeer(2)
	for i := range 40 {
		a.put(fmt.Sprintf("m-%03d", i), ts(i, i), nil)
		b.put(fmt.Sprintf("m-%03d", i+10), ts(i+10, i+10), nil) // the same versions as a
	}
	st := newVerStore()
	src := multi{"a": a, "b": b}
	rep := New(src, st, Options{PageLimit: 7, Now: func() time.Time { return testNow }}).Run(context.Background(), Pass{Peers: peerList("a", "b")})
	if rep.Failed() > 0 {
		t.Fatalf("setup pass: %+v", rep)
	}
	return src, st
}

func TestReconcileRepairsAndDeletesUnderTheGuard(t *testing.T) {
	src, st := twoPeers(t)
	a, b := src["a"], src["b"]
	// Behind the watermark: an old version newer than the table's, and an id never seen.
	a.put("m-005", ts(5, 0), map[string]any{"edited": true})
	a.put("m-005", "2026-06-01T10:00:05.500Z", nil)
	b.put("late", ts(1, 0), nil)
	// Lost from the table; deleted on both peers.
	st.vmu.Lock()
	delete(st.vers, "m-020")
	st.vmu.Unlock()
	for _, f := range []*fakePeer{a, b} {
		f.mu.Lock()
		delete(f.rows, "m-030")
		delete(f.rows, "m-031")
		f.mu.Unlock()
	}
	puts := st.puts
	rep := reconcile(t, src, st, Reconcile{Peers: peerList("a", "b")})
	if rep.Repaired != 3 || st.puts-puts != 3 {
		t.Errorf("repaired %d with %d writes, want 3 and 3 (rows already held are not written)", rep.Repaired, st.puts-puts)
	}
	if rep.LiveRows != 49 || rep.DeletionCandidates != 2 || rep.Tombstoned != 2 || rep.Withheld != "" {
		t.Errorf("live %d candidates %d tombstoned %d withheld %q, want 49 2 2 \"\"", rep.LiveRows, rep.DeletionCandidates, rep.Tombstoned, rep.Withheld)
	}
	live := st.live()
	for _, id := range []string{"m-005", "m-020", "late", "m-000", "m-049"} {
		if !live[id] {
			t.Errorf("%s not live", id)
		}
	}
	if live["m-030"] || live["m-031"] {
		t.Error("deleted memories still live")
	}
	// A second reconcile finds nothing to do.
	puts = st.puts
	again := reconcile(t, src, st, Reconcile{Peers: peerList("a", "b")})
	if again.Repaired != 0 || again.DeletionCandidates != 0 || again.Tombstoned != 0 || st.puts != puts || again.Deleted != 2 {
		t.Errorf("second reconcile: %+v, %d writes", again, st.puts-puts)
	}
	// The old version served again stays deleted; a new one lives.
	a.put("m-030", ts(30, 0), nil)
	b.put("m-031", ts(500, 0), nil)
	third := reconcile(t, src, st, Reconcile{Peers: peerList("a", "b")})
	live = st.live()
	if live["m-030"] || !live["m-031"] || third.Repaired != 1 {
		t.Errorf("m-030 live %v (want false), m-031 live %v (want true), repaired %d (want 1)", live["m-030"], live["m-031"], third.Repaired)
	}
	// The live pass refuses the old version too.
	a.put("m-030", ts(29, 0), nil)
	newRunner(src, st, 7).Run(context.Background(), Pass{Peers: peerList("a"), Range: &Range{}})
	if st.live()["m-030"] {
		t.Error("an older version served again resurrected m-030")
	}
}

func TestReconcileGuardWithholdsMassDeletion(t *testing.T) {
	src, st := twoPeers(t)
	b := src["b"]
	b.mu.Lock()
	b.rows = map[string]row.Row{} // a scope change: b serves nothing
	b.mu.Unlock()
	rep := reconcile(t, src, st, Reconcile{Peers: peerList("a", "b")})
	if rep.DeletionCandidates != 10 || rep.Tombstoned != 0 || !strings.Contains(rep.Withheld, "guard of 5") {
		t.Fatalf("candidates %d tombstoned %d withheld %q; want 10, 0, the guard", rep.DeletionCandidates, rep.Tombstoned, rep.Withheld)
	}
	if len(st.live()) != 50 {
		t.Fatal("deleted under a withheld guard")
	}
	short := reconcile(t, src, st, Reconcile{Peers: peerList("a", "b"), MaxDeletions: 9})
	if short.Tombstoned != 0 || !strings.Contains(short.Withheld, "max_deletions 9") {
		t.Fatalf("max_deletions below the candidates: %+v", short)
	}
	lifted := reconcile(t, src, st, Reconcile{Peers: peerList("a", "b"), MaxDeletions: 10})
	if lifted.Tombstoned != 10 || lifted.Withheld != "" || len(st.live()) != 40 {
		t.Fatalf("lifted guard: tombstoned %d withheld %q live %d", lifted.Tombstoned, lifted.Withheld, len(st.live()))
	}
}

func TestReconcileIncompleteWalkDeletesNothing(t *testing.T) {
	src, st := twoPeers(t)
	a, b := src["a"], src["b"]
	a.mu.Lock()
	delete(a.rows, "m-001")
	a.mu.Unlock()
	b.fail = errors.New("connection refused")
	rep := reconcile(t, src, st, Reconcile{Peers: peerList("a", "b")})
	if rep.Tombstoned != 0 || !strings.Contains(rep.Withheld, "peer b did not complete") || !st.live()["m-001"] {
		t.Fatalf("with b unreachable: tombstoned %d withheld %q", rep.Tombstoned, rep.Withheld)
	}
	b.fail = nil
	rep = reconcile(t, src, st, Reconcile{Peers: peerList("a", "b")})
	if rep.Tombstoned != 1 || rep.Withheld != "" || st.live()["m-001"] {
		t.Fatalf("b back: tombstoned %d withheld %q", rep.Tombstoned, rep.Withheld)
	}
}

func TestReconcileDryRunChangesNothing(t *testing.T) {
	src, st := twoPeers(t)
	src["a"].put("late", ts(0, 0), nil)
	src["a"].mu.Lock()
	delete(src["a"].rows, "m-002")
	src["a"].mu.Unlock()
	puts := st.puts
	rep := reconcile(t, src, st, Reconcile{Peers: peerList("a", "b"), DryRun: true})
	if rep.Repaired != 1 || rep.DeletionCandidates != 1 || rep.Tombstoned != 0 || st.puts != puts || st.tombs != 0 {
		t.Fatalf("dry run: %+v, %d writes, %d tombstones", rep, st.puts-puts, st.tombs)
	}
}

func TestReconcileWithoutPeersOrBeyondMaxRowsDeletesNothing(t *testing.T) {
	src, st := twoPeers(t)
	rep := reconcile(t, src, st, Reconcile{})
	if rep.Tombstoned != 0 || !strings.Contains(rep.Withheld, "no enabled peer") {
		t.Fatalf("no peers: %+v", rep)
	}
	r := newRunner(src, st, 7)
	src["a"].mu.Lock()
	delete(src["a"].rows, "m-003")
	src["a"].mu.Unlock()
	rep = r.Reconcile(context.Background(), st, Reconcile{Peers: peerList("a", "b")}, ReconcileOptions{MaxRows: 20})
	if !rep.Incomplete || rep.Tombstoned != 0 || !strings.Contains(rep.Withheld, "incomplete") {
		t.Fatalf("beyond max rows: %+v", rep)
	}
}

func TestReconcileUnwritableRowIsQuarantinedAndServed(t *testing.T) {
	src, st := twoPeers(t)
	src["a"].put("unwritable-1", ts(3, 0), nil)
	rep := reconcile(t, src, st, Reconcile{Peers: peerList("a", "b")})
	if rep.Peers[0].Invalid != 1 || len(st.quarantine) != 1 {
		t.Fatalf("unwritable row: %+v, quarantine %d", rep.Peers[0], len(st.quarantine))
	}
}
