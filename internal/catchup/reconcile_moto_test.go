package catchup

// Reconcile end to end: fake peers of every generation over HTTP, the real
// client, DynamoDB (moto) through ddbstore.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
)

// recMesh is three peers, one per generation: 20 memories on all of them and
// 10 of its own on each (50 in all), with the table caught up.
type recMesh struct {
	rig    *motoRig
	srvs   []*peertest.Server
	list   []peers.Peer
	runner *Runner
	pfx    string
}

func stampAt(sec int) string {
	return time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second).Format(time.RFC3339Nano)
}

func newRecMesh(t *testing.T) *recMesh {
	t.Helper()
	rm := &recMesh{rig: newMotoRig(t, 1, 0), pfx: fmt.Sprintf("r%d-", time.Now().UnixNano()%1e6)}
	for g, gen := range []peertest.Generation{peertest.V06, peertest.V07, peertest.Newest} {
		srv, ts := peertest.NewHTTPTest(t, peertest.WithGeneration(gen), peertest.WithSeed(int64(g)))
		rm.srvs = append(rm.srvs, srv)
		rm.list = append(rm.list, peers.Peer{ID: rm.pfx + gen.String(), URL: ts.URL})
		for i := range 20 {
			srv.Put(peertest.Memory(rm.id("s", i), stampAt(i)))
		}
		for i := range 10 {
			srv.Put(peertest.Memory(rm.id(fmt.Sprintf("u%d", g), i), stampAt(100+i)))
		}
	}
	rm.runner = New(wireClient(2*time.Second), rm.rig.direct, Options{PageLimit: 7})
	if rep := rm.live(t); rep.Failed() > 0 || rm.applied(rep) != 50 {
		t.Fatalf("setup pass: %+v", rep)
	}
	return rm
}

func (rm *recMesh) id(kind string, i int) string { return fmt.Sprintf("%s%s-%02d", rm.pfx, kind, i) }

func (rm *recMesh) live(t *testing.T) Report {
	t.Helper()
	return rm.runner.Run(context.Background(), Pass{Peers: rm.list})
}

func (rm *recMesh) applied(rep Report) int {
	n := 0
	for _, p := range rep.Peers {
		n += p.Applied
	}
	return n
}

func (rm *recMesh) reconcile(t *testing.T, rc Reconcile) ReconcileReport {
	t.Helper()
	if rc.Peers == nil {
		rc.Peers = rm.list
	}
	rep := rm.runner.Reconcile(context.Background(), rm.rig.direct, rc, ReconcileOptions{Segments: 3})
	b, _ := json.Marshal(rep)
	t.Logf("reconcile: %s", b)
	return rep
}

// table is every item: id -> updated_at, "deleted" for a tombstone.
func (rm *recMesh) table(t *testing.T) map[string]string {
	t.Helper()
	all, err := rm.rig.direct.ScanMemories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, st := range all {
		if !strings.HasPrefix(st.ID, rm.pfx) {
			continue
		}
		out[st.ID] = st.UpdatedAt
		if st.Deleted() {
			out[st.ID] = "deleted"
		}
	}
	return out
}

func (rm *recMesh) deleteItem(t *testing.T, id string) {
	t.Helper()
	_, err := rm.rig.client.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{
		TableName: aws.String(rm.rig.memoriesTable()),
		Key:       map[string]types.AttributeValue{ddbstore.MemoryKey: &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (r *motoRig) memoriesTable() string { return strings.TrimSuffix(r.state, "-state") + "-memories" }

func TestReconcileMotoRepairsRestoresAndDeletes(t *testing.T) {
	rm := newRecMesh(t)
	late, lost, gone, kept := rm.id("late", 0), rm.id("s", 3), rm.id("s", 5), rm.id("s", 6)
	rm.srvs[2].Put(peertest.Memory(late, stampAt(1))) // behind the newest peer's watermark
	rm.deleteItem(t, lost)
	for _, s := range rm.srvs {
		s.Delete(gone)
	}
	rm.srvs[0].Delete(kept)
	rm.srvs[1].Delete(kept)
	if rep := rm.live(t); rm.applied(rep) != 0 {
		t.Fatalf("the live pass saw what only a reconcile can: %+v", rep)
	}
	before := rm.table(t)
	dry := rm.reconcile(t, Reconcile{DryRun: true})
	if dry.Repaired != 2 || dry.DeletionCandidates != 1 || dry.Tombstoned != 0 {
		t.Errorf("dry run: repaired %d candidates %d tombstoned %d, want 2 1 0", dry.Repaired, dry.DeletionCandidates, dry.Tombstoned)
	}
	if after := rm.table(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a dry run changed the table")
	}
	rep := rm.reconcile(t, Reconcile{})
	if rep.Repaired != 2 || rep.DeletionCandidates != 1 || rep.Tombstoned != 1 || rep.Withheld != "" || rep.LiveRows != 49 {
		t.Errorf("reconcile: repaired %d candidates %d tombstoned %d withheld %q live %d, want 2 1 1 \"\" 49",
			rep.Repaired, rep.DeletionCandidates, rep.Tombstoned, rep.Withheld, rep.LiveRows)
	}
	tab := rm.table(t)
	if tab[late] != stampAt(1) || tab[lost] != stampAt(3) || tab[gone] != "deleted" || tab[kept] != stampAt(6) {
		t.Fatalf("late %q lost %q gone %q kept %q", tab[late], tab[lost], tab[gone], tab[kept])
	}
	if st, _, _ := rm.rig.direct.GetMemory(context.Background(), gone); len(st.Fields) != 1 {
		t.Errorf("the tombstone keeps fields of the row: %v", st.Fields)
	}
	if live := rm.live(t); rm.applied(live) != 0 {
		t.Errorf("a live pass right after applied %d", rm.applied(live))
	}
	again := rm.reconcile(t, Reconcile{})
	if again.Repaired != 0 || again.DeletionCandidates != 0 || again.Tombstoned != 0 {
		t.Errorf("second reconcile: %+v", again)
	}
	// The deleted version served again stays deleted; a newer one lives.
	rm.srvs[1].Put(peertest.Memory(gone, stampAt(5)))
	rm.reconcile(t, Reconcile{})
	rm.runner.Run(context.Background(), Pass{Peers: rm.list, Range: &Range{}})
	if tab := rm.table(t); tab[gone] != "deleted" {
		t.Fatalf("the deleted version served again came back: %q", tab[gone])
	}
	rm.srvs[1].Put(peertest.Memory(gone, stampAt(500)))
	rm.live(t)
	if tab := rm.table(t); tab[gone] != stampAt(500) {
		t.Fatalf("a new version of a deleted memory: %q", tab[gone])
	}
}

func TestReconcileMotoScopeChangeAndUnreachablePeerWithhold(t *testing.T) {
	rm := newRecMesh(t)
	// The v0.7 peer suddenly serves nothing: its 10 own memories look deleted.
	rm.srvs[1].SetScope(peertest.HideIf(func(peertest.Row) bool { return true }))
	rep := rm.reconcile(t, Reconcile{})
	if rep.DeletionCandidates != 10 || rep.Tombstoned != 0 || !strings.Contains(rep.Withheld, "guard") {
		t.Fatalf("scope change: candidates %d tombstoned %d withheld %q", rep.DeletionCandidates, rep.Tombstoned, rep.Withheld)
	}
	rm.srvs[1].SetScope(nil)
	// One real deletion while the v0.6 peer is unreachable: held back.
	gone := rm.id("s", 9)
	for _, s := range rm.srvs {
		s.Delete(gone)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	withDead := append([]peers.Peer{{ID: rm.list[0].ID, URL: dead}}, rm.list[1:]...)
	held := rm.reconcile(t, Reconcile{Peers: withDead})
	if held.Tombstoned != 0 || !strings.Contains(held.Withheld, "did not complete") || rm.table(t)[gone] == "deleted" {
		t.Fatalf("unreachable peer: tombstoned %d withheld %q", held.Tombstoned, held.Withheld)
	}
	back := rm.reconcile(t, Reconcile{})
	if back.Tombstoned != 1 || back.Withheld != "" || rm.table(t)[gone] != "deleted" {
		t.Fatalf("peer back: tombstoned %d withheld %q", back.Tombstoned, back.Withheld)
	}
}

// A reconcile and a live pass at once, while peers change: nothing served is
// lost, nothing deleted comes back.
func TestReconcileMotoBesideLivePassConverges(t *testing.T) {
	rm := newRecMesh(t)
	for i := range 5 {
		for _, s := range rm.srvs {
			s.Delete(rm.id("s", 10+i))
		}
	}
	for g, s := range rm.srvs {
		for i := range 15 {
			s.Put(peertest.Memory(rm.id("s", i%10), stampAt(1000+i+g))) // newer versions, differing per peer
		}
		s.Put(peertest.Memory(rm.id("new", g), stampAt(2000)))
	}
	var wg sync.WaitGroup
	var rep ReconcileReport
	wg.Add(2)
	go func() { defer wg.Done(); rep = rm.reconcile(t, Reconcile{}) }()
	go func() { defer wg.Done(); rm.live(t) }()
	wg.Wait()
	rm.live(t)
	if rep.Withheld == "" && rep.Tombstoned != 5 {
		t.Errorf("tombstoned %d of 5", rep.Tombstoned)
	}
	rm.reconcile(t, Reconcile{}) // whatever the race left, the next one finishes
	want := map[string]string{}
	for _, s := range rm.srvs {
		for _, r := range s.Rows() {
			if r.UpdatedAt > want[r.ID] { // one format: text order is time order
				want[r.ID] = r.UpdatedAt
			}
		}
	}
	for i := range 5 {
		want[rm.id("s", 10+i)] = "deleted"
	}
	got := rm.table(t)
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: table %q, want %q", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("table holds %d items, want %d", len(got), len(want))
	}
}
