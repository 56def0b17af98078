package catchup

import (
	"context"
	"testing"

	"github.com/aimemory/catchup/internal/peertest"
)

// A row dated in a leap second (23:59:60, which the peers accept) lands,
// and its updated_at may be the watermark: the next run sends it back as
// since and is answered.
func TestLeapSecondRowLands(t *testing.T) {
	const leap = "2026-06-30T23:59:60.5+00:00"
	w := newWire(t, nil)
	w.srv.Load([]map[string]any{
		peertest.Memory("before", "2026-06-30T23:59:59.9Z"),
		peertest.Memory("leap", leap),
	})
	for run := 1; run <= 2; run++ {
		rep := w.run(context.Background(), nil)
		if rep.Status != StatusCaughtUp || rep.Invalid != 0 {
			t.Fatalf("run %d: %+v, want caught up with nothing quarantined", run, rep)
		}
	}
	if got, ok := w.mem.items["leap"]; !ok || got.UpdatedAt != leap {
		t.Errorf("leap-second row in the table = %+v, %v", got, ok)
	}
	if m := w.mark(); m != leap {
		t.Errorf("watermark %q, want %q", m, leap)
	}
}
