// Package operator serves the function's invocations: a scheduled tick runs
// a pass over every peer; an operator payload (internal/event) runs, backfills,
// resets watermarks, lists or replays quarantine, edits the peer registry or
// reconciles. It works over the small interfaces below, so that in-memory
// fakes drive every action; package main hands in the real DynamoDB store,
// peer client and runner.
package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/event"
	"github.com/aimemory/catchup/internal/logging"
	"github.com/aimemory/catchup/internal/metrics"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/watermark"
)

// Watermarks is what reset_watermark needs from the store.
type Watermarks interface {
	ResetWatermark(ctx context.Context, peer, to, reason string) (watermark.Mark, error)
	WatermarkHistory(ctx context.Context, peer string) ([]replica.HistoryEntry, error)
}

// Registry is the peer registry in STATE_TABLE.
type Registry interface {
	RegistryPeers(ctx context.Context) ([]replica.RegisteredPeer, error)
	PutRegistryPeer(ctx context.Context, p replica.RegisteredPeer) error
	DeleteRegistryPeer(ctx context.Context, id string) error
}

// Store is everything the actions need from the store: the watermarks, the
// quarantine (list_quarantine, replay_quarantine), the registry and the
// memories table a reconcile walks. *ddbstore.Store implements it.
type Store interface {
	Watermarks
	Registry
	catchup.Quarantine
	catchup.Table
}

// Runner runs passes, replays and reconciles. *catchup.Runner implements it.
type Runner interface {
	Run(ctx context.Context, pass catchup.Pass) catchup.Report
	Replay(ctx context.Context, q catchup.Quarantine, peer string, dryRun bool) catchup.ReplayReport
	Reconcile(ctx context.Context, t catchup.Table, rc catchup.Reconcile, opt catchup.ReconcileOptions) catchup.ReconcileReport
}

var (
	_ Runner = (*catchup.Runner)(nil)
)

// Handler serves invocations. Set the fields, then call Handle; Handler is
// not copied after first use.
type Handler struct {
	Store        Store
	Runner       Runner
	Peers        []peers.Peer // PEERS
	PeerRegistry bool         // PEER_REGISTRY
	// Lookup reads the reconcile's variables (os.LookupEnv in production).
	Lookup func(string) (string, bool)
	Log    *slog.Logger
	// Metrics receives Embedded Metric Format lines; nil outside Lambda.
	Metrics io.Writer
	// FunctionName is the metrics' FunctionName dimension.
	FunctionName string
	MetricsLevel metrics.Level // PEER_METRICS
	Now          func() time.Time
	// Human, when set (a local run on a terminal), also gets a short line
	// per progress report.
	Human io.Writer

	mu   sync.Mutex
	cold logging.ColdStart
	cur  atomic.Pointer[slog.Logger] // the current invocation's logger
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// errAllFailed is returned when every peer of a run failed, so that the
// Lambda's error metric and dead-letter queue see it.
var errAllFailed = errors.New("every peer failed")

// Handle serves one invocation: a scheduled tick or an operator payload.
// Its log lines carry request_id (in Lambda) and cold_start (true only for
// the first invocation of this Handler).
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	log := h.Log
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With("request_id", lc.AwsRequestID)
	}
	h.mu.Lock()
	log = log.With("cold_start", h.cold.Next())
	h.mu.Unlock()
	h.cur.Store(log)
	ev, err := event.Parse(raw)
	if err != nil {
		log.Error("bad event", "error", err)
		return nil, err
	}
	switch ev.Action {
	case event.Run, event.Backfill:
		return h.run(ctx, log, ev)
	}
	return h.operate(ctx, log, ev)
}

// Progress logs where a peer's drain stands (catchup.Options.Progress) on
// the current invocation's logger and, when Human is set, prints it too.
func (h *Handler) Progress(p catchup.Progress) {
	log := h.cur.Load()
	if log == nil {
		log = h.Log
	}
	log.Info("progress", "peer", p.Peer, "pages", p.Pages, "fetched", p.Fetched, "applied", p.Applied,
		"cursor", p.Cursor, "rows_per_sec", int(p.RowsPerSec))
	if h.Human != nil {
		fmt.Fprintf(h.Human, "catchup: %s: %d pages, %d rows fetched, %d applied, %.0f rows/s, at %s\n",
			p.Peer, p.Pages, p.Fetched, p.Applied, p.RowsPerSec, p.Cursor)
	}
}

// run pulls the peers the event names (all by default).
func (h *Handler) run(ctx context.Context, log *slog.Logger, ev event.Payload) (*catchup.Report, error) {
	ps, err := h.selectPeers(ctx, log, ev.Peers)
	if err != nil {
		return nil, err
	}
	pass := catchup.Pass{Peers: ps, DryRun: ev.DryRun, Rotate: h.rotation(), IgnoreBreaker: len(ev.Peers) > 0}
	if ev.Action == event.Backfill {
		if pass.Range, err = backfillRange(ev); err != nil {
			return nil, err
		}
	}
	rep := h.Runner.Run(ctx, pass)
	h.logReport(log, rep)
	if pass.Range == nil {
		// A backfill's cursor is not a live watermark: its "lag" (weeks,
		// for a range in the past) would wake someone for nothing.
		h.emitMetrics(rep)
	}
	if n := rep.Failed(); n > 0 && n == len(rep.Peers) {
		return &rep, fmt.Errorf("%w: %d of %d (first: %s)", errAllFailed, n, n, rep.Peers[0].Error)
	}
	return &rep, nil
}

// selectPeers returns the configured peers, or the named subset of them
// (each once: a peer drained twice at once would race itself).
func (h *Handler) selectPeers(ctx context.Context, log *slog.Logger, names []string) ([]peers.Peer, error) {
	all, err := h.allPeers(ctx, log)
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
func (h *Handler) rotation() int {
	x := uint64(h.now().Unix() / 60)
	// splitmix64's finalizer: consecutive minutes land far apart modulo any n.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return int(x >> 1)
}

// logReport writes one summary line per peer and one line per failure.
func (h *Handler) logReport(log *slog.Logger, rep catchup.Report) {
	for _, p := range rep.Peers {
		attrs := []any{"peer", p.Peer, "status", p.Status, "pages", p.Pages, "fetched", p.Fetched,
			"applied", p.Applied, "stale", p.Stale, "invalid", p.Invalid, "rows_failed", p.Failed,
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

func (h *Handler) lookup(name string) (string, bool) {
	if h.Lookup == nil {
		return "", false
	}
	return h.Lookup(name)
}
