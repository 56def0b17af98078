package ddbstore

import (
	"strings"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// TestQuarantineLargeRowAgain records a row of the largest kind twice, as a
// pass that pulls an unwritable row again does: the second record changes
// only the reason and last_seen, and must not be refused for its size.
func TestQuarantineLargeRowAgain(t *testing.T) {
	s, c := testStore(t)
	ctx := testContext(t)
	raw := []byte(`{"id":"h","attachment":"` + strings.Repeat("x", 420_000) + `"}`)
	q := replica.Quarantined{Peer: "p1", RowID: "h", UpdatedAt: "2026-06-01T10:00:05Z", Reason: "item too large", Raw: raw}
	if err := s.Quarantine(ctx, q); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(time.Hour))
	q.Reason = "item too large (again)"
	if err := s.Quarantine(ctx, q); err != nil {
		t.Fatalf("second record: %v", err)
	}
	got, err := s.ListQuarantine(ctx, "p1")
	if err != nil || len(got) != 1 {
		t.Fatalf("ListQuarantine = %d rows, %v", len(got), err)
	}
	g := got[0]
	if g.Reason != q.Reason || !g.FirstSeen.Equal(t0) || !g.LastSeen.Equal(t0.Add(time.Hour)) ||
		!g.Truncated || g.RawBytes != len(raw) || len(g.Raw) != maxRawBytes {
		t.Errorf("after the second record: reason %q first %v last %v truncated %v raw %d/%d bytes",
			g.Reason, g.FirstSeen, g.LastSeen, g.Truncated, len(g.Raw), g.RawBytes)
	}
}
