package catchup

// The model-based test again, over the wire: the same random meshes served
// by fake peers over HTTP with the peer faults of peertest, pulled by the
// real client, written to the map store (TestConvergenceOverTheWire) or to
// DynamoDB (moto) through the fault proxy (TestConvergenceOnDynamoDB).

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/row"
)

// wireMesh mirrors a mesh onto fake peers on loopback.
type wireMesh struct {
	m      *mesh
	prefix string // makes ids and peer ids unique per seed in shared tables
	srvs   map[string]*peertest.Server
	list   []peers.Peer
	hide   map[string]func(peertest.Row) bool
	strict map[string]bool
	syncMu sync.Mutex // one sync at a time
	// changing is held (read) by every fault draw, which may change the
	// mesh: the server answers a request the client gave up on after the
	// client has moved on, and its change must not land after the faults
	// are turned off, behind the clean passes that judge convergence.
	changing sync.RWMutex
}

// stopFaults turns the faults off once no draw is under way.
func (wm *wireMesh) stopFaults(d *dice) {
	wm.changing.Lock()
	defer wm.changing.Unlock()
	d.setRate(0)
}

func newWireMesh(t *testing.T, m *mesh, d *dice, prefix string) *wireMesh {
	wm := &wireMesh{m: m, prefix: prefix, srvs: map[string]*peertest.Server{},
		hide: map[string]func(peertest.Row) bool{}, strict: map[string]bool{}}
	for _, id := range m.ids {
		gen := []peertest.Generation{peertest.V06, peertest.V07, peertest.Newest}[d.intn(3)]
		opts := []peertest.Option{peertest.WithSeed(int64(d.intn(1000))), peertest.WithFaultFunc(wm.faults(d))}
		if m.peers[id].hidden != nil {
			gen = max(gen, peertest.V07) // v0.6 does not filter
			wm.hide[id] = func(r peertest.Row) bool { return hash(strings.TrimPrefix(r.ID, prefix))%4 == 0 }
			opts = append(opts, peertest.WithScope(peertest.HideIf(wm.hide[id])))
		}
		wm.strict[id] = gen >= peertest.V07
		srv, ts := peertest.NewHTTPTest(t, append(opts, peertest.WithGeneration(gen))...)
		wm.srvs[id] = srv
		wm.list = append(wm.list, peers.Peer{ID: prefix + id, URL: ts.URL})
	}
	wm.sync()
	return wm
}

// sync puts every row of the mesh on its fake peer, as a valid memory
// unless the mesh made it invalid. A peer commits its writes in the order of
// their updated_at, as the fakes of the mesh do: syncs run one at a time and
// put each peer's rows in the order the server selects them (byte-wise), so
// that no request sees a row without the older ones written with it. (Put in
// map order, a page could show a row at :34 and the next, already past it,
// miss one at :33 put a moment later: a row arriving behind the cursor, which
// the feed never shows (docs/protocol.md §9, reconcile's job, not the pass's).)
func (wm *wireMesh) sync() {
	wm.syncMu.Lock()
	defer wm.syncMu.Unlock()
	for _, id := range wm.m.ids {
		f := wm.m.peers[id]
		f.mu.Lock()
		rows := make([]row.Row, 0, len(f.rows))
		for _, r := range f.rows {
			rows = append(rows, r)
		}
		f.mu.Unlock()
		slices.SortFunc(rows, func(a, b row.Row) int { return strings.Compare(a.UpdatedAt, b.UpdatedAt) })
		for _, r := range rows {
			wm.srvs[id].Put(wm.memory(r))
		}
	}
}

func (wm *wireMesh) memory(r row.Row) map[string]any {
	row := peertest.Memory(wm.prefix+r.ID, r.UpdatedAt)
	row["content"], row["by"] = r.Fields["content"], r.Fields["by"]
	if r.Invalid != nil {
		row["title"] = "  " // invalid whatever the stamp
	}
	if wm.m.isHuge(r.ID) {
		row["attachment"] = strings.Repeat("x", 420_000)
	}
	return row
}

// served is what the peer with the prefixed id serves to us now.
func (wm *wireMesh) served(peer string) []row.Row {
	id := strings.TrimPrefix(peer, wm.prefix)
	return decodeServed(wm.srvs[id], wm.hide[id], wm.strict[id])
}

// peerFaults are the faults a peer's answers get, drawn per request.
var peerFaults = []struct {
	kind string
	f    peertest.Fault
}{
	{"peer_500", peertest.Status(500)},
	{"peer_503", peertest.Status(503)},
	{"peer_429", peertest.RateLimited("0")},
	{"peer_truncated", peertest.Truncated()},
	{"peer_hangup", peertest.Hangup()},
	{"peer_slow", peertest.Slow(20 * time.Millisecond)},
	{"peer_duplicate_rows", peertest.DuplicateRows()},
	{"peer_reversed_rows", peertest.ReverseRows()},
	{"peer_next_since_9999", peertest.SetField("next_since", "9999-12-31T23:59:59Z")},
	{"peer_not_json", peertest.NotJSON()},
}

func (wm *wireMesh) faults(d *dice) peertest.FaultFunc {
	return func(*http.Request, int) peertest.Fault {
		wm.changing.RLock()
		defer wm.changing.RUnlock()
		if d.roll("data_changed_between_pages", 0.03) {
			wm.m.update()
			wm.sync()
		}
		for _, pf := range peerFaults {
			if d.roll(pf.kind, 0.02) {
				return pf.f
			}
		}
		return peertest.Fault{}
	}
}

func TestConvergenceOnDynamoDB(t *testing.T) {
	rig := newMotoRig(t, 5, 0)
	client := meshClient()
	runSeeds(t, "moto", seedCountFrom(t, "CATCHUP_MOTO_SEEDS", 10), func(seed uint64) seedResult {
		before := rig.proxy.Counts()
		tb := wireTables{store: rig.faulty, truth: ddbTruth{rig.direct}, setRate: rig.proxy.SetRate, prefix: fmt.Sprintf("s%d-", seed)}
		r := convergeWire(t, tb, client, seed)
		for f, n := range rig.proxy.Counts() {
			r.faults["dynamodb_"+f.String()] = n - before[f]
		}
		return r
	})
}

// TestConvergenceOverTheWire is the wire half alone: fake peers over HTTP
// with their faults, the real client, the map store. Fast, so it runs many
// seeds (CATCHUP_WIRE_SEEDS widens it); it found, in minutes, both harness
// races behind a failure the DynamoDB run showed once in CI.
func TestConvergenceOverTheWire(t *testing.T) {
	client := meshClient()
	runSeeds(t, "wire", seedCountFrom(t, "CATCHUP_WIRE_SEEDS", 150), func(seed uint64) seedResult {
		mem := newMemStore()
		return convergeWire(t, wireTables{store: mem, truth: memTruth{mem}}, client, seed)
	})
}

// runSeeds runs one convergence per seed, in order, reports each seed's
// first problems and logs the figures.
func runSeeds(t *testing.T, name string, seeds int, one func(seed uint64) seedResult) {
	var fig figures
	for seed := range uint64(seeds) {
		r := one(seed)
		fig.add(r)
		for _, p := range r.problems[:min(len(r.problems), 5)] {
			t.Errorf("seed %d: %s", seed, p)
		}
	}
	t.Logf("%s: %s", name, &fig)
	if fig.lost != 0 {
		t.Errorf("%d rows lost", fig.lost)
	}
}

// meshClient is the client of the wire meshes: 2 s timeouts, an 8 MiB body
// cap (pages of huge rows fit), short backoffs, 3 attempts.
func meshClient() *peers.Client {
	return peers.NewClient(peers.Config{LocalID: "agent-test", Timeout: 2 * time.Second, MaxBody: 8 << 20,
		MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
}

// wireTables is where a wire convergence writes: the store the runs use
// (maybe behind a fault proxy), the truth that judges it directly, and the
// proxy's rate (nil without one). prefix makes ids and peer ids unique per
// seed when seeds share tables.
type wireTables struct {
	store   Store
	truth   truth
	setRate func(float64)
	prefix  string
}

func convergeWire(t *testing.T, tb wireTables, client *peers.Client, seed uint64) seedResult {
	m, d := newMesh(seed), newDice(seed)
	wm := newWireMesh(t, m, d, tb.prefix)
	audit := newAuditStore(tb.store, tb.truth, wm.served, func() time.Time { return testNow }, 5*time.Minute)
	setRate := tb.setRate
	if setRate == nil {
		setRate = func(float64) {}
	}
	res := seedResult{seed: seed, faultyPasses: 1 + d.intn(3)}
	d.setRate(1)
	setRate(0.15)
	for n := range res.faultyPasses {
		if d.intn(10) < 7 {
			m.update()
			wm.sync()
		}
		runs := 1
		if d.roll("concurrent_pass", 0.15) {
			runs = 2
		}
		var wg sync.WaitGroup
		for i := range runs {
			wg.Add(1)
			go func() { defer wg.Done(); motoRun(client, audit, wm, d, n+i, true) }()
		}
		wg.Wait()
	}
	wm.stopFaults(d)
	setRate(0)
	var last Report
	for res.cleanPasses < 10 && !res.converged {
		res.cleanPasses++
		last = motoRun(client, audit, wm, d, res.faultyPasses+res.cleanPasses, false)
		res.converged = caughtUp(last)
	}
	if !res.converged {
		res.problems = append(res.problems, fmt.Sprintf("not caught up after 10 clean passes: %+v", last.Peers))
	}
	res.faults, res.advances = d.counts.snapshot(), audit.advances
	res.problems = append(res.problems, audit.Violations()...)
	for _, p := range wm.list {
		for _, row := range wm.served(p.ID) {
			res.rows++
			if ok, err := tb.truth.done(context.Background(), p.ID, row); !ok || err != nil {
				res.lost++
				res.problems = append(res.problems, fmt.Sprintf("%s: row %s at %q lost (%v)", p.ID, row.ID, row.UpdatedAt, err))
			}
		}
	}
	return res
}

// motoRun is one invocation over the wire mesh, maybe killed after a few writes.
func motoRun(client *peers.Client, audit *auditStore, wm *wireMesh, d *dice, n int, faulty bool) Report {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &crash{k: -1, cancel: cancel, counts: d.counts}
	if faulty && d.intn(10) < 3 {
		c.k = d.intn(60)
	}
	r := New(crashSource{client, c}, crashStore{audit, c}, Options{
		PageLimit: wm.m.limit, PeerConcurrency: 3, WriteConcurrency: 8, Now: func() time.Time { return testNow },
	})
	return r.Run(ctx, Pass{Peers: wm.list, Rotate: n})
}
