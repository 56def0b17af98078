package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/logging"
	"github.com/aimemory/catchup/internal/metrics"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peers/awssecrets"
	"github.com/aimemory/catchup/internal/sdkconfig"
)

// app holds what is built once per cold start and reused by every invocation.
type app struct {
	cfg     config
	log     *slog.Logger
	store   *ddbstore.Store
	client  *peers.Client
	runner  *catchup.Runner
	metrics io.Writer // Embedded Metric Format lines; nil outside Lambda
	// functionName is the metrics' FunctionName dimension: the Lambda's name
	// (the template's alarms use the same), "local" outside Lambda.
	functionName string
	metricsLevel metrics.Level // PEER_METRICS
	now          func() time.Time
	// inv is per-environment invocation state (a pointer: app is copied).
	inv *invocations
	// human, when set (a local run on a terminal), also gets a short
	// progress line per report.
	human io.Writer
}

// newApp builds the AWS clients, the peer client and the runner, all reading
// time from now.
func newApp(ctx context.Context, cfg config, log *slog.Logger, inLambda bool, now func() time.Time) (*app, error) {
	awsCfg, err := sdkconfig.Load(ctx, cfg.WriteConcurrency+cfg.PeerConcurrency)
	if err != nil {
		return nil, err
	}
	store := ddbstore.New(dynamodb.NewFromConfig(awsCfg), cfg.MemoriesTable, cfg.StateTable, now)
	keys := peers.NewSecretsCache(awssecrets.New(secretsmanager.NewFromConfig(awsCfg)), cfg.SecretTTL, now)
	client := peers.NewClient(peers.Config{
		LocalID: cfg.LocalID,
		Timeout: cfg.RequestTimeout,
		MaxBody: cfg.MaxResponseBytes,
		Keys:    keys,
	})
	a := &app{cfg: cfg, log: log, store: store, client: client, now: now, functionName: "local",
		metricsLevel: cfg.PeerMetrics, inv: &invocations{}}
	a.runner = catchup.New(client, store, catchup.Options{
		PageLimit:        cfg.PageLimit,
		PeerConcurrency:  cfg.PeerConcurrency,
		WriteConcurrency: cfg.WriteConcurrency,
		Skew:             cfg.ClockSkew,
		Margin:           cfg.DeadlineMargin,
		Budget:           cfg.LocalBudget,
		Breakers:         store,
		Now:              now,
		Progress:         a.progress,
	})
	if inLambda {
		a.metrics = os.Stdout
		a.functionName = lambdacontext.FunctionName
		// A soft limit under the function's memory: past it the collector
		// works harder instead of Lambda killing a run that holds large pages
		// (PAGE_LIMIT x PEER_CONCURRENCY decoded rows; BENCHMARKS.md).
		if mb := lambdacontext.MemoryLimitInMB; mb > 0 {
			debug.SetMemoryLimit(int64(mb) * 85 / 100 << 20)
		}
	}
	return a, nil
}

// runInit creates both tables when missing. It needs only the table names.
func runInit(ctx context.Context, log *slog.Logger) int {
	r := envReader{lookup: os.LookupEnv}
	memories, state := r.required("MEMORIES_TABLE"), r.required("STATE_TABLE")
	if r.err != nil {
		log.Error("config", "error", r.err.Error())
		return exitConfig
	}
	awsCfg, err := sdkconfig.Load(ctx, 4)
	if err == nil {
		err = ddbstore.New(dynamodb.NewFromConfig(awsCfg), memories, state, time.Now).CreateTables(ctx)
	}
	if err != nil {
		log.Error("init", "error", err.Error())
		return exitFailed
	}
	log.Info("tables ready", "memories_table", memories, "state_table", state)
	return 0
}

// progress logs where a peer's drain stands (catchup.Options.Progress) and,
// in an interactive local run, prints it for a human too.
func (a *app) progress(p catchup.Progress) {
	log := a.log
	if a.inv != nil {
		if l := a.inv.log.Load(); l != nil {
			log = l
		}
	}
	log.Info("progress", "peer", p.Peer, "pages", p.Pages, "fetched", p.Fetched, "applied", p.Applied,
		"cursor", p.Cursor, "rows_per_sec", int(p.RowsPerSec))
	if a.human != nil {
		fmt.Fprintf(a.human, "catchup: %s: %d pages, %d rows fetched, %d applied, %.0f rows/s, at %s\n",
			p.Peer, p.Pages, p.Fetched, p.Applied, p.RowsPerSec, p.Cursor)
	}
}

// invocations hands out each invocation's cold_start and holds the current
// invocation's logger (request_id, cold_start), which progress lines use.
type invocations struct {
	mu   sync.Mutex
	cold logging.ColdStart
	log  atomic.Pointer[slog.Logger]
}

// start returns the logger of a new invocation, derived from base.
func (in *invocations) start(base *slog.Logger) *slog.Logger {
	in.mu.Lock()
	cold := in.cold.Next()
	in.mu.Unlock()
	log := base.With("cold_start", cold)
	in.log.Store(log)
	return log
}
