package bench

import (
	"context"
	"time"
)

// RoundTrip is the pass and its ceiling with every DynamoDB request waiting
// Latency (a network round trip to DynamoDB), and the naive loop, one
// PutItem at a time, under the same latency.
type RoundTrip struct {
	Pair
	Sequential Result
}

// Lead is the pass's rate over the naive loop's.
func (r RoundTrip) Lead() float64 {
	if s := r.Sequential.RowsPerSecond(); s > 0 {
		return r.Catchup.RowsPerSecond() / s
	}
	return 0
}

// Unhidden is the rate WRITE_CONCURRENCY loops would reach if the DynamoDB
// API added nothing of its own under load: writers × the naive loop's rate.
func (r RoundTrip) Unhidden() float64 {
	return float64(r.Settings.WriteConcurrency) * r.Sequential.RowsPerSecond()
}

// RoundTrip measures c (its DynamoLatency set) as Throughput does, then the
// naive loop over the first seqRows of the same requests.
func (h *Harness) RoundTrip(ctx context.Context, c Case, seqRows int) (RoundTrip, error) {
	if c.Settings == (Settings{}) {
		c.Settings = h.Settings
	}
	pair, err := h.Throughput(ctx, c)
	rt := RoundTrip{Pair: pair}
	if err != nil {
		return rt, err
	}
	raw, _ := h.specs(c, &Mesh{})
	raw.Mode, raw.WriteConcurrency, raw.MaxRows, raw.CPUProfile = ModeSeq, 1, seqRows, ""
	rt.Sequential, err = h.spawn(ctx, raw)
	return rt, err
}

// Idle is a pass over peers with nothing new: what a run spends per peer
// when the mesh is quiet.
type Idle struct {
	Peers         int
	PeerDelay     time.Duration
	DynamoLatency time.Duration
	Result        Result
}

// Idle runs one pass over peers empty peers, each waiting peerDelay before
// it answers, every DynamoDB request waiting latency.
func (h *Harness) Idle(ctx context.Context, peers int, peerDelay, latency time.Duration) (Idle, error) {
	out := Idle{Peers: peers, PeerDelay: peerDelay, DynamoLatency: latency}
	err := withMesh(make([][]map[string]any, peers), peerDelay, func(m *Mesh) error {
		_, cu := h.specs(Case{N: 0, P: peers, DynamoLatency: latency, Settings: h.Settings}, m)
		cu.CPUProfile = ""
		res, err := h.spawn(ctx, cu)
		out.Result = res
		if err == nil {
			err = caughtUp(res, 0)
		}
		return err
	})
	return out, err
}
