package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
)

// Case is one throughput measurement: N rows split evenly over P peers.
type Case struct {
	N, P          int
	PeerDelay     time.Duration // each peer waits this long before it answers
	DynamoLatency time.Duration // added to every DynamoDB request
	Settings      Settings      // zero fields: the harness's
	NoRaw         bool          // measure the pass only
}

// Pair is one catch-up measured against its ceiling.
type Pair struct {
	Case
	Catchup Result
	Raw     Result // zero when Case.NoRaw
}

// Ratio is catch-up throughput over raw throughput.
func (p Pair) Ratio() float64 {
	if r := p.Raw.RowsPerSecond(); r > 0 {
		return p.Catchup.RowsPerSecond() / r
	}
	return 0
}

// Throughput catches up c.N rows split evenly over c.P peers, and (unless
// c.NoRaw) writes the same items raw, at the same write concurrency, into
// fresh tables of the same dynalite. It fails when the pass did not write
// every row in one run.
func (h *Harness) Throughput(ctx context.Context, c Case) (Pair, error) {
	rows, err := h.rowsOf(c.N)
	if err != nil {
		return Pair{}, err
	}
	backlogs := Split(rows, Even(c.N, c.P))
	pair := Pair{Case: c}
	s := c.Settings
	base := Spec{PageLimit: s.PageLimit, PeerConcurrency: s.PeerConcurrency, WriteConcurrency: s.WriteConcurrency, DynamoLatency: c.DynamoLatency}
	err = withMesh(backlogs, c.PeerDelay, func(m *Mesh) error {
		raw, cu := base, base
		raw.Mode, raw.RowsFile = ModeRaw, filepath.Join(h.Dir, fmt.Sprintf("rows-%d-%d.jsonl", c.N, c.P))
		cu.Mode, cu.Peers = ModeCatchup, m.Peers
		if h.ProfileDir != "" {
			raw.CPUProfile = filepath.Join(h.ProfileDir, fmt.Sprintf("raw-%d-%d.pprof", c.N, c.P))
			cu.CPUProfile = filepath.Join(h.ProfileDir, fmt.Sprintf("catchup-%d-%d.pprof", c.N, c.P))
		}
		var err error
		if !c.NoRaw {
			if err := WriteRowsFile(raw.RowsFile, m, backlogs); err != nil {
				return err
			}
			if pair.Raw, err = h.spawn(ctx, raw); err != nil {
				return err
			}
		}
		if pair.Catchup, err = h.spawn(ctx, cu); err != nil {
			return err
		}
		return caughtUp(pair.Catchup, c.N)
	})
	return pair, err
}

// caughtUp checks that a pass wrote every one of n rows and left no peer
// behind.
func caughtUp(r Result, n int) error {
	if r.Rows != n || r.Failed != 0 {
		return fmt.Errorf("pass wrote %d of %d rows, %d failed", r.Rows, n, r.Failed)
	}
	for _, p := range r.Peers {
		if p.Status != catchup.StatusCaughtUp {
			return fmt.Errorf("peer %s ended %s: %s", p.ID, p.Status, p.Error)
		}
	}
	return nil
}
