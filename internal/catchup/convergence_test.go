package catchup

// The model-based test of issue 4: random meshes, random faults in each
// pass, passes repeated once the faults stop until every peer is caught up;
// then every valid row's newest version must be in the table, every invalid
// row in quarantine, and no watermark may ever have moved backward or past a
// row that was not done (auditStore checks each one as it happens).

import (
	"context"
	"fmt"
	"maps"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/row"
)

// maxCleanPasses bounds the fault-free passes a seed may need to converge.
const maxCleanPasses = 30

// seedResult is what one seed of the model did.
type seedResult struct {
	seed          uint64
	faultyPasses  int
	cleanPasses   int // fault-free passes until every peer was caught up
	rows          int // rows the peers serve at the end
	lost          int // of those, rows neither in the table (or newer) nor in quarantine
	advances      int
	faults        map[string]int
	problems      []string
	converged     bool
	concurrentRun bool
}

// figures aggregates seeds for the report.
type figures struct {
	seeds, rows, lost, advances int
	maxPasses, sumPasses        int
	maxClean, sumClean          int
	faults                      map[string]int
}

func (f *figures) add(r seedResult) {
	f.seeds++
	f.rows += r.rows
	f.lost += r.lost
	f.advances += r.advances
	passes := r.faultyPasses + r.cleanPasses
	f.maxPasses, f.sumPasses = max(f.maxPasses, passes), f.sumPasses+passes
	f.maxClean, f.sumClean = max(f.maxClean, r.cleanPasses), f.sumClean+r.cleanPasses
	if f.faults == nil {
		f.faults = map[string]int{}
	}
	for k, v := range r.faults {
		f.faults[k] += v
	}
}

func (f *figures) String() string {
	total := 0
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(f.faults)) {
		total += f.faults[k]
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, f.faults[k]))
	}
	return fmt.Sprintf("seeds=%d rows=%d lost=%d watermark_advances=%d faults_injected=%d passes_to_converge max=%d mean=%.2f clean_passes_after_faults max=%d mean=%.2f\nfaults: %s",
		f.seeds, f.rows, f.lost, f.advances, total, f.maxPasses, float64(f.sumPasses)/float64(f.seeds),
		f.maxClean, float64(f.sumClean)/float64(f.seeds), strings.Join(kinds, " "))
}

// seedCount is n, or CATCHUP_SEEDS when set, or n/10 under -short.
func seedCount(t *testing.T, n int) int { return seedCountFrom(t, "CATCHUP_SEEDS", n) }

// seedCountFrom is n, or the variable name when set, or n/10 under -short.
func seedCountFrom(t *testing.T, name string, n int) int {
	if v := os.Getenv(name); v != "" {
		c, err := strconv.Atoi(v)
		if err != nil || c < 1 {
			t.Fatalf("%s=%q: want a positive integer", name, v)
		}
		return c
	}
	if testing.Short() {
		return max(n/10, 1)
	}
	return n
}

func TestConvergenceUnderFaults(t *testing.T) {
	seeds := seedCount(t, 4000)
	results := make(chan seedResult)
	var wg sync.WaitGroup
	next := make(chan uint64)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range next {
				results <- convergeFakes(seed)
			}
		}()
	}
	go func() {
		for s := range uint64(seeds) {
			next <- s
		}
		close(next)
		wg.Wait()
		close(results)
	}()
	var fig figures
	failed := 0
	for r := range results {
		fig.add(r)
		if len(r.problems) > 0 {
			failed++
			if failed <= 5 {
				t.Errorf("seed %d (%d faulty passes, concurrent=%v): %d problems, first: %s",
					r.seed, r.faultyPasses, r.concurrentRun, len(r.problems), strings.Join(r.problems[:min(5, len(r.problems))], "; "))
			}
		}
	}
	t.Logf("fakes: %s", &fig)
	if fig.lost != 0 || failed != 0 {
		t.Errorf("%d seeds failed, %d rows lost", failed, fig.lost)
	}
}

// convergeFakes runs one seed against the fake peers and the map store.
func convergeFakes(seed uint64) seedResult {
	m, d, mem := newMesh(seed), newDice(seed), newMemStore()
	now := func() time.Time { return testNow }
	audit := newAuditStore(mem, memTruth{mem}, m.served, now, 5*time.Minute)
	res := seedResult{seed: seed, faultyPasses: 1 + d.intn(6)}
	d.setRate(1)
	for n := range res.faultyPasses {
		if d.intn(10) < 7 {
			m.update()
		}
		if d.roll("operator_reset", 0.05) {
			m.reset(mem, audit)
		}
		if fakePass(m, d, audit, n, true) > 1 {
			res.concurrentRun = true
		}
	}
	d.setRate(0)
	for res.cleanPasses < maxCleanPasses && !res.converged {
		res.cleanPasses++
		res.converged = caughtUp(fakeRun(m, d, audit, res.faultyPasses+res.cleanPasses, false))
	}
	if !res.converged {
		res.problems = append(res.problems, fmt.Sprintf("not caught up after %d clean passes", maxCleanPasses))
	}
	res.faults = d.counts.snapshot()
	res.advances = audit.advances
	res.checkFinal(m, mem, audit)
	return res
}

// fakePass runs one pass, or two at once on the same tables, and returns
// how many ran.
func fakePass(m *mesh, d *dice, audit *auditStore, n int, faulty bool) int {
	runs := 1
	if faulty && d.roll("concurrent_pass", 0.15) {
		runs = 2
	}
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fakeRun(m, d, audit, n+i, faulty)
		}()
	}
	wg.Wait()
	return runs
}

// fakeRun is one invocation: a fresh Runner (a new process), maybe killed
// after a few writes, maybe with a deadline that ends it mid-page. Seeds fix
// the mesh and the fault draws; the deadlines run on the wall clock and the
// draws interleave as goroutines are scheduled, so a failing seed may take a
// few runs of CATCHUP_SEEDS to show again (the failure message names it).
func fakeRun(m *mesh, d *dice, audit *auditStore, n int, faulty bool) Report {
	const margin = 2 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	if faulty && d.roll("deadline_mid_run", 0.1) {
		cancel()
		ctx, cancel = context.WithTimeout(context.Background(), margin+time.Duration(d.intn(3000))*time.Microsecond)
	}
	defer cancel()
	c := &crash{k: -1, cancel: cancel, counts: d.counts}
	// Without faults (dice at rate 0) these still refuse the huge rows.
	st, src := faultyStore{audit, d, m}, faultySource{m, d}
	if faulty && d.intn(10) < 3 {
		c.k = d.intn(40)
	}
	r := New(crashSource{src, c}, crashStore{st, c}, Options{
		PageLimit: m.limit, PeerConcurrency: 1 + d.intn(3), WriteConcurrency: 1 + d.intn(8),
		Now: func() time.Time { return testNow }, Margin: margin,
	})
	return r.Run(ctx, Pass{Peers: m.peerList(), Rotate: n})
}

func caughtUp(rep Report) bool {
	for _, p := range rep.Peers {
		if p.Status != StatusCaughtUp {
			return false
		}
	}
	return true
}

// checkFinal compares the store with what the peers serve: every row done,
// and the table holding exactly the newest valid version of each id.
func (r *seedResult) checkFinal(m *mesh, mem *memStore, audit *auditStore) {
	r.problems = append(r.problems, audit.Violations()...)
	best := map[string]row.Row{}
	for _, peer := range m.ids {
		for _, row := range m.served(peer) {
			r.rows++
			if ok, _ := (memTruth{mem}).done(context.Background(), peer, row); !ok {
				r.lost++
				r.problems = append(r.problems, fmt.Sprintf("%s: row %s at %q lost (invalid=%v)", peer, row.ID, row.UpdatedAt, row.Invalid != nil))
			}
			if b, ok := best[row.ID]; row.Invalid == nil && !m.huge[row.ID] && (!ok || newer(memoryOf(row, peer), memoryOf(b, peer))) {
				best[row.ID] = row
			}
		}
	}
	for id, b := range best {
		held, ok := mem.items[id]
		if !ok || held.UpdatedAt != b.UpdatedAt || !reflect.DeepEqual(held.Fields, b.Fields) {
			r.problems = append(r.problems, fmt.Sprintf("table holds %s at %q, want %q", id, held.UpdatedAt, b.UpdatedAt))
		}
	}
	for id := range mem.items {
		if _, ok := best[id]; !ok {
			r.problems = append(r.problems, fmt.Sprintf("table holds %s, which no peer serves", id))
		}
	}
}

// A v0.6 relay's copy of a memory keeps its updated_at but drops the fields
// it does not know: at that instant the full version wins, whichever peer is
// pulled first, though the relay's copy sorts larger (docs/protocol.md §6).
func TestRelayCopyWithFewerFieldsLosesTie(t *testing.T) {
	at := ts(1, 0)
	for _, order := range [][]string{{"full", "relay"}, {"relay", "full"}} {
		full, relay := newFakePeer(1), newFakePeer(2)
		full.put("m1", at, map[string]any{"content": "aaa", "lifecycle_state": "active"})
		relay.put("m1", at, map[string]any{"content": "zzz"})
		st := newMemStore()
		r := newRunner(multi{"full": full, "relay": relay}, st, 10)
		for _, id := range order {
			if rep := r.Run(context.Background(), Pass{Peers: peerList(id)}).Peers[0]; rep.Status != StatusCaughtUp {
				t.Fatalf("%v: peer %s: %+v", order, id, rep)
			}
		}
		if got := st.items["m1"].Fields["lifecycle_state"]; got != "active" {
			t.Errorf("%v: stored %v, want the full version", order, st.items["m1"].Fields)
		}
	}
}
