package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/event"
	"github.com/aimemory/catchup/internal/peers"
)

// errAllFailed is returned when every peer of a run failed, so that the
// Lambda's error metric and dead-letter queue see it.
var errAllFailed = errors.New("every peer failed")

// handle serves one invocation: a scheduled tick or an operator payload.
func (a *app) handle(ctx context.Context, raw json.RawMessage) (any, error) {
	log := a.log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("request_id", lc.AwsRequestID)
	}
	if a.inv != nil {
		log = a.inv.start(log)
	}
	ev, err := event.Parse(raw)
	if err != nil {
		log.Error("bad event", "error", err)
		return nil, err
	}
	switch ev.Action {
	case event.Run, event.Backfill:
		return a.run(ctx, log, ev)
	}
	return a.operate(ctx, log, ev)
}

// run pulls the peers the event names (all by default).
func (a *app) run(ctx context.Context, log *slog.Logger, ev event.Payload) (*catchup.Report, error) {
	ps, err := a.selectPeers(ctx, log, ev.Peers)
	if err != nil {
		return nil, err
	}
	pass := catchup.Pass{Peers: ps, DryRun: ev.DryRun, Rotate: a.rotation(), IgnoreBreaker: len(ev.Peers) > 0}
	if ev.Action == event.Backfill {
		if pass.Range, err = backfillRange(ev); err != nil {
			return nil, err
		}
	}
	rep := a.runner.Run(ctx, pass)
	a.logReport(log, rep)
	if pass.Range == nil {
		// A backfill's cursor is not a live watermark: its "lag" (weeks,
		// for a range in the past) would wake someone for nothing.
		a.emitMetrics(rep)
	}
	if n := rep.Failed(); n > 0 && n == len(rep.Peers) {
		return &rep, fmt.Errorf("%w: %d of %d (first: %s)", errAllFailed, n, n, rep.Peers[0].Error)
	}
	return &rep, nil
}

// selectPeers returns the configured peers, or the named subset of them
// (each once: a peer drained twice at once would race itself).
func (a *app) selectPeers(ctx context.Context, log *slog.Logger, names []string) ([]peers.Peer, error) {
	all, err := a.allPeers(ctx, log)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return all, nil
	}
	var out []peers.Peer
	for _, n := range unique(names) {
		i := slices.IndexFunc(all, func(p peers.Peer) bool { return p.ID == n })
		if i < 0 {
			return nil, fmt.Errorf("event: peers: %q is not a configured peer", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// unique returns names without repeats, in first-seen order.
func unique(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// rotation is the index the run starts at (Pass.Rotate): a hash of the
// current minute, so that over runs every peer in turn is among the first
// pulled, whatever the schedule's period. The minute itself would not do: a
// 5-minute schedule over 5 or 10 peers would start at the same one or two
// peers forever, and the last ones would meet the deadline every run.
func (a *app) rotation() int {
	x := uint64(a.now().Unix() / 60)
	// splitmix64's finalizer: consecutive minutes land far apart modulo any n.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return int(x >> 1)
}

// logReport writes one summary line per peer and one line per failure.
func (a *app) logReport(log *slog.Logger, rep catchup.Report) {
	for _, p := range rep.Peers {
		attrs := []any{"peer", p.Peer, "status", p.Status, "pages", p.Pages, "fetched", p.Fetched,
			"applied", p.Applied, "stale", p.Stale, "invalid", p.Invalid, "failed", p.Failed,
			"watermark", p.Watermark, "duration_ms", p.DurationMs, "dry_run", rep.DryRun}
		switch p.Status {
		case catchup.StatusFailed:
			log.Error("peer failed", append(attrs, "error_class", p.ErrorClass, "error", p.Error,
				"consecutive_failures", p.ConsecutiveFailures)...)
		case catchup.StatusSkipped, catchup.StatusStalled:
			log.Warn("peer "+p.Status, append(attrs, "error", p.Error, "consecutive_failures", p.ConsecutiveFailures)...)
		default:
			log.Info("peer done", attrs...)
		}
		for _, f := range p.Failures {
			log.Error("row not written", "peer", p.Peer, "id", f.ID, "updated_at", f.UpdatedAt, "error", f.Error)
		}
	}
}

// runLocal runs one invocation outside Lambda and prints its result as one
// JSON object. Exit codes: exitOK; exitFailed when a peer or the action
// failed; exitBadEvent when the -event file is unreadable or not a payload.
func (a *app) runLocal(ctx context.Context, eventFile string, out io.Writer) int {
	raw := json.RawMessage(`{}`)
	if eventFile != "" {
		b, err := os.ReadFile(eventFile)
		if err != nil {
			a.log.Error("bad event", "error", err.Error())
			return exitBadEvent
		}
		if _, err := event.Parse(b); err != nil {
			a.log.Error("bad event", "file", eventFile, "error", err.Error())
			return exitBadEvent
		}
		raw = b
	}
	res, err := a.handle(ctx, raw)
	if res != nil {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(res); encErr != nil {
			a.log.Error("report not written", "error", encErr.Error())
			return exitFailed
		}
	}
	if err != nil {
		a.log.Error("failed", "error", err.Error())
		return exitFailed
	}
	if rep, ok := res.(*catchup.Report); ok && rep.Failed() > 0 {
		return exitFailed
	}
	return exitOK
}
