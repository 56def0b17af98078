package catchup

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/row"
	"github.com/aimemory/catchup/internal/watermark"
)

// mesh is a random set of fake peers for the model-based test: overlapping
// memory ids, tie groups, timestamps in mixed formats, invalid rows, rows
// dated in the future, rows the store can never take, and rows some peers
// hide from us. Writes after the start are stamped in later whole seconds,
// as a peer's clock stamps them, so that text order agrees with time order
// across the writes that follow a pull (docs/protocol.md §3).
type mesh struct {
	mu     sync.Mutex
	rng    *rand.Rand
	peers  multi
	ids    []string
	pool   int             // memory ids m-000 .. m-<pool-1> are in use
	clock  int             // the next second a write may take
	bad    int             // invalid, huge and future rows get fresh ids
	huge   map[string]bool // ids DynamoDB could never take
	limit  int             // page limit of the runs
	writes int             // rows written after the start
}

var meshBase = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

func newMesh(seed uint64) *mesh {
	rng := rand.New(rand.NewPCG(seed, 0x6d657368))
	m := &mesh{rng: rng, peers: multi{}, pool: 5 + rng.IntN(30), clock: 30, huge: map[string]bool{}}
	m.limit = []int{2, 3, 5, 8, 13, 50}[rng.IntN(6)]
	for i := range 1 + rng.IntN(4) {
		id := fmt.Sprintf("p%d", i)
		f := newFakePeer(rng.Uint64())
		f.nextGen = rng.IntN(2) == 0
		if rng.IntN(3) == 0 {
			f.hidden = func(r row.Row) bool { return hash(r.ID)%4 == 0 }
		}
		m.peers[id], m.ids = f, append(m.ids, id)
		m.fill(f)
	}
	return m
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// fill gives a peer its starting rows, in tie groups within the first 30 seconds.
func (m *mesh) fill(f *fakePeer) {
	groups := make([]string, 1+m.rng.IntN(12))
	for i := range groups {
		groups[i] = m.stampAt(m.rng.IntN(30))
	}
	for range m.rng.IntN(60) {
		m.put(f, groups[m.rng.IntN(len(groups))])
	}
}

// put writes one row of a random kind at updatedAt.
func (m *mesh) put(f *fakePeer, updatedAt string) {
	switch x := m.rng.IntN(100); {
	case x < 6:
		m.bad++
		f.putInvalid(fmt.Sprintf("bad-%d", m.bad), updatedAt, "title: empty")
	case x < 8:
		m.bad++
		f.put(fmt.Sprintf("bad-%d", m.bad), strings.Replace(updatedAt, "-06-", "-13-", 1), nil) // month 13
	case x < 10:
		m.bad++
		m.huge[fmt.Sprintf("huge-%d", m.bad)] = true
		f.put(fmt.Sprintf("huge-%d", m.bad), updatedAt, nil)
	case x < 12:
		m.bad++
		f.put(fmt.Sprintf("future-%d", m.bad), []string{"9999-12-31T23:59:59Z", "2026-11-27T13:00:00.000+00:00"}[m.rng.IntN(2)], nil)
	default:
		f.put(fmt.Sprintf("m-%03d", m.rng.IntN(m.pool)), updatedAt, map[string]any{"by": m.rng.IntN(3)})
	}
}

// stampAt writes an instant in second sec in one of the formats peers mix:
// Z or +00:00, 0, 3, 6 or 9 fraction digits.
func (m *mesh) stampAt(sec int) string {
	t := meshBase.Add(time.Duration(sec) * time.Second)
	digits := []int{0, 3, 6, 9}[m.rng.IntN(4)]
	s := t.Format("2006-01-02T15:04:05")
	if digits > 0 {
		frac := fmt.Sprintf("%09d", m.rng.IntN(1e9))
		s += "." + frac[:digits]
	}
	return s + []string{"Z", "+00:00"}[m.rng.IntN(2)]
}

// update writes a few rows at later seconds, some new, some newer versions.
func (m *mesh) update() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range 1 + m.rng.IntN(4) {
		f := m.peers[m.ids[m.rng.IntN(len(m.ids))]]
		if m.rng.IntN(4) == 0 {
			m.pool++
		}
		m.clock += 1 + m.rng.IntN(2)
		m.put(f, m.stampAt(m.clock))
		m.writes++
	}
}

func (m *mesh) peerList() []peers.Peer { return peerList(m.ids...) }

// served lists what peer serves now, to us.
func (m *mesh) served(peer string) []row.Row {
	f := m.peers[peer]
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []row.Row
	for _, r := range f.rows {
		if f.hidden == nil || !f.hidden(r) {
			out = append(out, r)
		}
	}
	return out
}

// rowsAtOrBelow lists rows of peer at or before since, byte-wise (a page
// that replays old rows serves these).
func (m *mesh) rowsAtOrBelow(peer, since string) []row.Row {
	var out []row.Row
	for _, r := range m.served(peer) {
		if r.UpdatedAt <= since {
			out = append(out, r)
		}
	}
	return out
}

func memoryOf(r row.Row, peer string) replica.Memory {
	return replica.FromRow(peer, r)
}

// memTruth judges a memStore.
type memTruth struct{ s *memStore }

func (t memTruth) done(_ context.Context, peer string, r row.Row) (bool, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if _, ok := t.s.quarantine[peer+"/"+r.ID+"/"+r.UpdatedAt]; ok {
		return true, nil
	}
	held, ok := t.s.items[r.ID]
	return r.Invalid == nil && ok && !newer(memoryOf(r, peer), held), nil
}

func (t memTruth) mark(_ context.Context, peer string) (watermark.Mark, error) {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.s.marks[peer], nil
}

// reset moves a peer's watermark back in a new epoch, as an operator does.
func (m *mesh) reset(s *memStore, a *auditStore) {
	m.mu.Lock()
	peer := m.ids[m.rng.IntN(len(m.ids))]
	m.mu.Unlock()
	s.mu.Lock()
	mk := watermark.Mark{Value: "", Epoch: s.marks[peer].Epoch + 1}
	s.marks[peer] = mk
	s.mu.Unlock()
	a.noteReset(peer, mk)
}
