package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aimemory/catchup/cmd/catchupbench/internal/bench"
)

// The fairness scenario: one huge backlog that cannot drain within the
// deadline on any machine this runs on, and many small ones.
const (
	fairHuge     = 100000
	fairSmall    = 50
	fairSmalls   = 99
	fairDeadline = 30 * time.Second
	fairMargin   = 5 * time.Second
	sweepRows    = 5000
	idlePeers    = 200
)

// measure runs the chosen scenarios in order, logging progress on log, and
// returns what it measured up to the first failure.
func measure(ctx context.Context, h *bench.Harness, o options, log io.Writer) (*bench.Report, error) {
	start := time.Now()
	rep := &bench.Report{
		Machine: bench.ThisMachine(), LoadBefore: bench.LoadAverage(), Settings: o.settings,
		Poller: bench.PollerPolicy{PageRows: 500, Every: 5 * time.Minute, RunLimit: o.deploy.runLimit()},
		Deploy: o.deploy.Deploy,
	}
	defer func() { rep.LoadAfter, rep.Took = bench.LoadAverage(), time.Since(start) }()
	step := func(what string, fn func() error) error {
		t := time.Now()
		fmt.Fprintf(log, "== %s\n", what)
		err := fn()
		fmt.Fprintf(log, "   %s (load %s)\n", time.Since(t).Round(100*time.Millisecond), bench.LoadAverage())
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if o.only["throughput"] {
		for _, n := range o.ns {
			for _, p := range o.ps {
				err := step(fmt.Sprintf("throughput %d rows, %d peers", n, p), func() error {
					pair, err := h.Throughput(ctx, bench.Case{N: n, P: p, Settings: o.settings, Reps: o.reps})
					rep.Throughput = append(rep.Throughput, pair)
					return err
				})
				if err != nil {
					return rep, err
				}
			}
		}
	}
	if o.only["roundtrip"] {
		err := step(fmt.Sprintf("round trip %s, %d rows", o.latency, o.rtRows), func() error {
			rt, err := h.RoundTrip(ctx, bench.Case{N: o.rtRows, P: 1, DynamoLatency: o.latency, Reps: o.reps}, o.seqRows)
			rep.RoundTrip = &rt
			return err
		})
		if err != nil {
			return rep, err
		}
	}
	if o.only["idle"] {
		err := step(fmt.Sprintf("idle: %d empty peers", idlePeers), func() error {
			id, err := h.Idle(ctx, idlePeers, o.latency, o.latency)
			rep.Idle = &id
			return err
		})
		if err != nil {
			return rep, err
		}
	}
	if o.only["pipeline"] {
		err := step("pipelining", func() error {
			pl, err := h.Pipeline(ctx, 10000)
			rep.Pipeline = &pl
			return err
		})
		if err != nil {
			return rep, err
		}
	}
	if err := sweeps(ctx, h, o, rep, step); err != nil {
		return rep, err
	}
	if o.only["fairness"] {
		err := step("fairness", func() error {
			f, err := h.Fairness(ctx, fairHuge, fairSmall, fairSmalls, fairDeadline, fairMargin)
			rep.Fairness = &f
			return err
		})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// sweeps measures the write and peer concurrency sweeps.
func sweeps(ctx context.Context, h *bench.Harness, o options, rep *bench.Report, step func(string, func() error) error) error {
	if o.only["writes"] {
		for _, w := range o.writes {
			s := o.settings
			s.WriteConcurrency = w
			err := step(fmt.Sprintf("write concurrency %d", w), func() error {
				pair, err := h.Throughput(ctx, bench.Case{N: sweepRows, P: 1, DynamoLatency: o.latency, Settings: s, Reps: o.reps})
				rep.Writes = append(rep.Writes, pair)
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	if o.only["peers"] {
		for _, pc := range o.peerConcs {
			s := o.settings
			s.PeerConcurrency = pc
			err := step(fmt.Sprintf("peer concurrency %d", pc), func() error {
				pair, err := h.Throughput(ctx, bench.Case{N: 10000, P: 100, PeerDelay: o.peerDelay, Settings: s, Reps: o.reps})
				rep.PeerSweep = append(rep.PeerSweep, pair)
				return err
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}
