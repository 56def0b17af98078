package watermark

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// simRow is one row a simulated peer holds.
type simRow struct {
	at      string
	visible bool // in our scope; the server filters the others after the LIMIT
}

// simPeer behaves as docs/protocol.md §3 says a peer does: text comparison, no
// tie-breaker, LIMIT before filtering, and (newest servers) a next_since that
// is safe for what it examined. It also plays the store: each visible row
// fails to apply with probability failRate until it has once been done.
type simPeer struct {
	rng      *rand.Rand
	now      time.Time
	rows     []simRow // sorted byte-wise by at
	newest   bool     // sends next_since
	badNext  float64  // chance of a next_since we must refuse
	failRate float64
	done     []bool
	seen     []bool
}

// newSimPeer makes a random universe: tie groups, mixed spellings of
// instants (Z, +00:00, other offsets, 0 to 9 fraction digits, t and space
// separators), rows dated in the future and rows whose updated_at does not
// parse, with a random share of rows out of scope.
func newSimPeer(rng *rand.Rand, now time.Time) *simPeer {
	visible := pick(rng, 1, 1, 0.9, 0.5, 0.1, 0)
	g := stampGen{rng: rng, now: now, mixed: rng.IntN(3) > 0,
		futureP: pick(rng, 0, 0, 0.05, 0.3), junkP: pick(rng, 0, 0, 0.03)}
	n := 1 + rng.IntN(150)
	var rows []simRow
	for len(rows) < n {
		at := g.next()
		size := 1
		if rng.IntN(3) == 0 {
			size += rng.IntN(8)
		}
		for range size {
			rows = append(rows, simRow{at: at, visible: rng.Float64() < visible})
		}
	}
	slices.SortStableFunc(rows, func(a, b simRow) int { return strings.Compare(a.at, b.at) })
	return &simPeer{
		rng: rng, now: now, rows: rows, newest: rng.IntN(2) == 0, badNext: pick(rng, 0, 0.1, 0.5),
		done: make([]bool, len(rows)), seen: make([]bool, len(rows)),
	}
}

func pick(rng *rand.Rand, xs ...float64) float64 { return xs[rng.IntN(len(xs))] }

type stampGen struct {
	rng            *rand.Rand
	now            time.Time
	mixed          bool
	futureP, junkP float64
}

func (g stampGen) next() string {
	if g.rng.Float64() < g.junkP {
		return []string{"", "not a time", "2026-06-01T11:59:00Zjunk"}[g.rng.IntN(3)]
	}
	// A ten-minute window makes the same second recur in several spellings.
	ts := g.now.Add(-time.Duration(g.rng.IntN(600)) * time.Second)
	if g.rng.Float64() < g.futureP {
		ts = g.now.Add(skew + time.Duration(1+g.rng.IntN(3600))*time.Second)
	}
	if g.rng.IntN(2) == 0 {
		ts = ts.Add(time.Duration(g.rng.IntN(1e9)))
	}
	if !g.mixed {
		return ts.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return spell(g.rng, ts)
}

// spell writes an instant the way some node may have stored it.
func spell(rng *rand.Rand, ts time.Time) string {
	zone := []string{"Z", "+00:00", "+00:00", "z", "+02:00", "-05:30"}[rng.IntN(6)]
	loc := time.UTC
	switch zone {
	case "+02:00":
		loc = time.FixedZone("", 2*3600)
	case "-05:30":
		loc = time.FixedZone("", -(5*3600 + 30*60))
	}
	ts = ts.In(loc)
	sep := []string{"T", "T", "T", "t", " "}[rng.IntN(5)]
	s := ts.Format("2006-01-02") + sep + ts.Format("15:04:05")
	if digits := []int{0, 3, 6, 9}[rng.IntN(4)]; digits > 0 {
		s += fmt.Sprintf(".%09d", ts.Nanosecond())[:digits+1]
	}
	return s + zone
}

// answer is one page as the caller sees it, with what only the test knows.
type answer struct {
	page Page
	last string // the largest updated_at the server examined, "" if none
}

// fetch answers GET /sync/since?since=cursor&limit=limit.
func (s *simPeer) fetch(cursor string, limit int) answer {
	lo := 0
	if cursor != "" {
		lo, _ = slices.BinarySearchFunc(s.rows, cursor, func(r simRow, c string) int {
			if r.at > c {
				return 1
			}
			return -1
		})
	}
	taken := s.takeLimit(lo, min(limit, len(s.rows)-lo))
	a := answer{page: Page{Examined: len(taken), Limit: limit, NextSince: s.nextSince(taken, limit)}}
	for _, i := range taken {
		a.last = max(a.last, s.rows[i].at)
		if s.rows[i].visible {
			a.page.Rows = append(a.page.Rows, Row{UpdatedAt: s.rows[i].at, Done: s.apply(i)})
		}
	}
	return a
}

// takeLimit returns n rows from lo on, in the server's order. With no
// tie-breaker, which members of a group the LIMIT cuts is arbitrary.
func (s *simPeer) takeLimit(lo, n int) []int {
	if n <= 0 {
		return nil
	}
	end := lo + n
	last := s.rows[end-1].at
	gs, ge := end-1, end
	for gs > lo && s.rows[gs-1].at == last {
		gs--
	}
	for ge < len(s.rows) && s.rows[ge].at == last {
		ge++
	}
	taken := make([]int, 0, n)
	for i := lo; i < gs; i++ {
		taken = append(taken, i)
	}
	group := s.rng.Perm(ge - gs)[:end-gs]
	for _, g := range group {
		taken = append(taken, gs+g)
	}
	s.rng.Shuffle(len(taken), func(i, j int) { taken[i], taken[j] = taken[j], taken[i] })
	return taken
}

// nextSince is what a newest server sends: the largest value it examined
// when the page was not full, else the largest strictly below the last one.
// Sometimes it is one we must refuse (year 9999, garbage, in the future).
func (s *simPeer) nextSince(taken []int, limit int) string {
	if !s.newest || len(taken) == 0 {
		return ""
	}
	if s.rng.Float64() < s.badNext {
		return []string{y9999, "garbage", s.now.Add(time.Hour).Format(time.RFC3339)}[s.rng.IntN(3)]
	}
	top := slices.Max(taken)
	if len(taken) < limit {
		return s.rows[top].at
	}
	for i := top; i >= 0; i-- {
		if s.rows[i].at < s.rows[top].at && slices.Contains(taken, i) {
			return s.rows[i].at
		}
	}
	return ""
}

// apply writes row i: once done, a row stays done (a later write is stale).
func (s *simPeer) apply(i int) bool {
	s.seen[i] = true
	if !s.done[i] && s.rng.Float64() >= s.failRate {
		s.done[i] = true
	}
	return s.done[i]
}

func (s *simPeer) distinct() int {
	n := 0
	for i, r := range s.rows {
		if i == 0 || r.at != s.rows[i-1].at {
			n++
		}
	}
	return n
}
