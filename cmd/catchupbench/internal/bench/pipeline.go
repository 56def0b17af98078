package bench

import (
	"context"
	"fmt"
	"time"
)

// Pipelining is the evidence that the next page is fetched while the
// current one is written: one peer, measured fast and then slow, with a
// per-request delay equal to the time the fast run spent writing one page.
// Run serially, the slow run would take Fast + Fetches*Delay; pipelined, it
// takes about Fast.
type Pipelining struct {
	N      int
	Delay  time.Duration // the slow peer's wait before each answer
	Fast   Result        // no delay
	Slow   Result        // Delay before every answer
	Serial float64       // seconds the slow run would take if fetches and writes alternated
}

// Hidden is the share of the added fetch time that the pass hid behind
// writes: 1 when the slow run took no longer than the fast one, 0 when it
// took Serial.
func (p Pipelining) Hidden() float64 {
	added := p.Serial - p.Fast.Seconds
	if added <= 0 {
		return 0
	}
	return 1 - (p.Slow.Seconds-p.Fast.Seconds)/added
}

// Pipeline measures Pipelining over n rows from one peer.
func (h *Harness) Pipeline(ctx context.Context, n int) (Pipelining, error) {
	rows, err := h.rowsOf(n)
	if err != nil {
		return Pipelining{}, err
	}
	backlogs := [][]map[string]any{rows}
	out := Pipelining{N: n}
	err = withMesh(backlogs, 0, func(m *Mesh) error {
		out.Fast, err = h.spawn(ctx, Spec{Mode: ModeCatchup, Peers: m.Peers, Trace: true})
		if err == nil {
			err = caughtUp(out.Fast, n)
		}
		return err
	})
	if err != nil {
		return out, err
	}
	if out.Fast.Pages == 0 || out.Fast.Overlap == nil {
		return out, fmt.Errorf("fast run fetched no page")
	}
	out.Delay = time.Duration(out.Fast.Overlap.WriteBusyS / float64(out.Fast.Pages) * float64(time.Second))
	err = withMesh(backlogs, out.Delay, func(m *Mesh) error {
		out.Slow, err = h.spawn(ctx, Spec{Mode: ModeCatchup, Peers: m.Peers, Trace: true})
		if err == nil {
			err = caughtUp(out.Slow, n)
		}
		return err
	})
	if err != nil {
		return out, err
	}
	out.Serial = out.Fast.Seconds + float64(out.Slow.Overlap.Fetches)*out.Delay.Seconds()
	return out, nil
}
