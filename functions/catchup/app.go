package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/config"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/gcpolicy"
	"github.com/aimemory/catchup/internal/operator"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peers/awssecrets"
	"github.com/aimemory/catchup/internal/sdkconfig"
)

// app holds what is built once per cold start and reused by every
// invocation: the operator handler over the real store, client and runner.
type app struct {
	*operator.Handler
	cfg   config.Config
	log   *slog.Logger
	store *ddbstore.Store // the real store, for -init and tests' inspection
}

// newApp builds the AWS clients, the peer client and the runner, all reading
// time from now, and hands them to the operator handler.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger, inLambda bool, now func() time.Time) (*app, error) {
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
	h := &operator.Handler{Store: store, Peers: cfg.Peers, PeerRegistry: cfg.PeerRegistry, Lookup: os.LookupEnv,
		Log: log, FunctionName: "local", MetricsLevel: cfg.PeerMetrics, Now: now}
	h.Runner = catchup.New(client, store, catchup.Options{
		PageLimit:        cfg.PageLimit,
		PeerConcurrency:  cfg.PeerConcurrency,
		WriteConcurrency: cfg.WriteConcurrency,
		Skew:             cfg.ClockSkew,
		Margin:           cfg.DeadlineMargin,
		Budget:           cfg.LocalBudget,
		Breakers:         store,
		Now:              now,
		Progress:         h.Progress,
	})
	if inLambda {
		h.Metrics = os.Stdout
		h.FunctionName = lambdacontext.FunctionName
		// GOGC 400 under a soft limit of 85% of the function's memory: past
		// it the collector works harder instead of Lambda killing a run that
		// holds large pages (PAGE_LIMIT x PEER_CONCURRENCY decoded rows;
		// BENCHMARKS.md).
		gcpolicy.Apply(lambdacontext.MemoryLimitInMB, os.Getenv)
	}
	return &app{Handler: h, cfg: cfg, log: log, store: store}, nil
}

// runInit creates both tables when missing. It needs only the table names.
func runInit(ctx context.Context, log *slog.Logger) int {
	memories, state, err := config.Tables(os.LookupEnv)
	if err != nil {
		log.Error("config", "error", err.Error())
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
