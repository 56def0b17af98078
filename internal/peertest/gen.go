package peertest

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// Memory returns a valid row (every docs/protocol.md §5 rule holds, given a
// valid id and updatedAt) with some v0.7 fields and one newest field. Its
// fields derive from id, and its content names updatedAt, so two versions of
// one memory differ in content. created_at equals updatedAt.
func Memory(id, updatedAt string) map[string]any {
	h := fnv.New32a()
	h.Write([]byte(id))
	x := int(h.Sum32())
	return map[string]any{
		"id":                 id,
		"tier":               []string{"short", "mid", "long"}[x%3],
		"namespace":          "peertest/notes",
		"title":              "Note " + id,
		"content":            fmt.Sprintf("Memory %s as of %s.\nKept for the replication tests.", id, updatedAt),
		"tags":               []string{"peertest", fmt.Sprintf("bucket-%d", x%5)},
		"priority":           1 + x%10,
		"confidence":         float64(x%101) / 100,
		"source":             "api",
		"access_count":       x % 17,
		"created_at":         updatedAt,
		"updated_at":         updatedAt,
		"metadata":           map[string]any{"origin": "peertest", "n": x % 1000},
		"memory_kind":        "semantic",
		"reflection_depth":   0,
		"citations":          []any{},
		"version":            1 + x%3,
		"confidence_source":  "user",
		"confidence_signals": map[string]any{},
		"lifecycle_state":    "active",
	}
}

// backlogBase is the first instant of a Backlog.
var backlogBase = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// stampFormats are the ways peers write one instant (docs/protocol.md §3), with
// the precision each can express.
var stampFormats = []struct {
	layout string
	prec   time.Duration
}{
	{"2006-01-02T15:04:05.000Z07:00", time.Millisecond}, // the fixed-width default
	{"2006-01-02T15:04:05Z07:00", time.Second},
	{"2006-01-02T15:04:05.000000-07:00", time.Microsecond},
	{"2006-01-02T15:04:05-07:00", time.Second},
	{"2006-01-02T15:04:05.0-07:00", 100 * time.Millisecond},
	{"2006-01-02T15:04:05.000000000Z07:00", time.Nanosecond},
}

// Backlog returns n valid rows (Memory) with ids "bl-00000"…, in groups of
// tieGroupSize rows (the last may be smaller; <= 1 means no ties) that share
// one updated_at string. Group g's instant lies in [g, g+1) half seconds
// after 2026-06-01T10:00:00Z, so groups are strictly increasing in time and
// no two share a string. Without mixFormats every stamp is
// "…T10:00:00.123Z", fixed width, so text order is time order; with it each
// group takes one of several formats (Z or +00:00, 0, 1, 3, 6 or 9 fraction
// digits, each stamp exact), so text order and time order disagree, as on
// real peers. The same arguments give the same rows.
func Backlog(n int, seed int64, tieGroupSize int, mixFormats bool) []map[string]any {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6261636b6c6f67))
	size := max(tieGroupSize, 1)
	rows := make([]map[string]any, 0, n)
	var stamp string
	for i := range n {
		if i%size == 0 {
			stamp = groupStamp(i/size, rng, mixFormats)
		}
		rows = append(rows, Memory(fmt.Sprintf("bl-%05d", i), stamp))
	}
	return rows
}

// groupStamp writes an instant of group g's half second in a format that
// expresses it exactly.
func groupStamp(g int, rng *rand.Rand, mixFormats bool) string {
	slot := backlogBase.Add(time.Duration(g) * 500 * time.Millisecond)
	at := slot.Add(time.Duration(rng.Int64N(int64(500 * time.Millisecond))))
	f := stampFormats[0]
	if mixFormats {
		f = stampFormats[rng.IntN(len(stampFormats))]
	}
	if at = at.Truncate(f.prec); at.Before(slot) { // a whole second in an odd half
		f = stampFormats[0]
		at = slot.Add(time.Duration(rng.IntN(500)) * time.Millisecond)
	}
	return at.Format(f.layout)
}
