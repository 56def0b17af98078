package bench

import (
	"context"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
)

// Fairness is one pass over one peer with a huge backlog (served first) and
// many peers with small ones, under a deadline shorter than the huge one
// needs.
type Fairness struct {
	Huge, Small, Smalls int // rows of the huge peer; rows of each of Smalls small peers
	Deadline, Margin    time.Duration
	Result              Result
}

// SmallCaughtUp counts the small peers that ended caught up.
func (f Fairness) SmallCaughtUp() int {
	n := 0
	for _, p := range f.Result.Peers[1:] {
		if p.Status == catchup.StatusCaughtUp {
			n++
		}
	}
	return n
}

// HugePeer is the huge peer's outcome.
func (f Fairness) HugePeer() PeerOutcome { return f.Result.Peers[0] }

// Fair reports whether every small peer caught up and the run returned
// within its margin of the deadline: after deadline - margin (it used its
// budget) and before the deadline.
func (f Fairness) Fair() bool {
	s := f.Result.SlackMs
	return f.SmallCaughtUp() == f.Smalls && s != nil && *s >= 0 && *s <= f.Margin.Milliseconds()
}

// Fairness runs the scenario: peer 0 holds huge rows, peers 1..smalls hold
// small rows each.
func (h *Harness) Fairness(ctx context.Context, huge, small, smalls int, deadline, margin time.Duration) (Fairness, error) {
	f := Fairness{Huge: huge, Small: small, Smalls: smalls, Deadline: deadline, Margin: margin}
	rows, err := h.rowsOf(huge + small*smalls)
	if err != nil {
		return f, err
	}
	sizes := append([]int{huge}, Even(small*smalls, smalls)...)
	err = withMesh(Split(rows, sizes), 0, func(m *Mesh) error {
		var err error
		f.Result, err = h.spawn(ctx, Spec{Mode: ModeCatchup, Peers: m.Peers, Deadline: deadline, Margin: margin})
		return err
	})
	return f, err
}
