package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/gcpolicy"
	"github.com/aimemory/catchup/internal/peers"
)

// Modes of a child process.
const (
	ModeCatchup = "catchup"    // one catch-up pass over Spec.Peers
	ModeRaw     = "raw"        // the ceiling: the pass's PutItem requests for Spec.RowsFile, built before timing, sent with the plain client
	ModeSeq     = "sequential" // raw with one PutItem at a time: the naive loop
)

// Spec is what one child process measures; it travels as JSON on stdin.
type Spec struct {
	Mode             string        `json:"mode"`
	Endpoint         string        `json:"endpoint"` // DynamoDB API (dynalite)
	Memories         string        `json:"memories"` // table names, created by the child
	State            string        `json:"state"`
	Peers            []peers.Peer  `json:"peers,omitempty"`     // catchup
	RowsFile         string        `json:"rows_file,omitempty"` // raw: lines of "peer-id\trow JSON"
	MaxRows          int           `json:"max_rows,omitempty"`  // raw: write only the first MaxRows; 0 = all
	PageLimit        int           `json:"page_limit"`
	PeerConcurrency  int           `json:"peer_concurrency"`
	WriteConcurrency int           `json:"write_concurrency"`
	Deadline         time.Duration `json:"deadline,omitempty"` // catchup: the invocation's deadline from the start; 0 = none
	Margin           time.Duration `json:"margin,omitempty"`
	DynamoLatency    time.Duration `json:"dynamo_latency,omitempty"` // added to every DynamoDB request
	Trace            bool          `json:"trace,omitempty"`          // catchup: record fetch/write overlap
	CPUProfile       string        `json:"cpu_profile,omitempty"`    // write a pprof CPU profile of the measured part here
	MemoryMB         int           `json:"memory_mb,omitempty"`      // the function's memory: the child runs with its GC policy (gcpolicy)
}

// Result is what a child measured. The parent adds MaxRSS and CPU from the
// child's rusage.
type Result struct {
	Mode       string        `json:"mode"`
	Rows       int           `json:"rows"`        // rows written (applied)
	Done       int           `json:"done"`        // rows done: applied, stale or quarantined
	Failed     int           `json:"rows_failed"` // rows neither written nor quarantined
	Seconds    float64       `json:"seconds"`     // wall time of the measured part
	Mallocs    uint64        `json:"mallocs"`     // heap allocations during the measured part
	AllocBytes uint64        `json:"alloc_bytes"`
	Pages      int           `json:"pages,omitempty"`
	Peers      []PeerOutcome `json:"peers,omitempty"`
	// SlackMs is how long before the deadline Run returned (negative: after it).
	SlackMs *int64   `json:"slack_ms,omitempty"`
	Overlap *Overlap `json:"overlap,omitempty"`

	MaxRSS int64   `json:"max_rss"` // bytes, peak resident set of the child
	CPUS   float64 `json:"cpu_s"`   // user + system seconds of the child, start-up included
	// WorkCPUS is user + system seconds of the child during the measured
	// part only (getrusage around it): what the work cost, per row the
	// figure Lambda's CPU share decides.
	WorkCPUS float64 `json:"work_cpu_s"`
	Baseline int64   `json:"baseline"` // bytes resident before the measured part
}

// PeerOutcome is one peer's line of a catch-up report.
type PeerOutcome struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Applied int    `json:"applied"`
	Error   string `json:"error,omitempty"`
}

// RowsPerSecond is the measured throughput.
func (r Result) RowsPerSecond() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.Rows) / r.Seconds
}

// RunChild performs spec in this process and measures it.
func RunChild(ctx context.Context, spec Spec) (Result, error) {
	// Every child, raw and the naive loop too, runs under the collector
	// policy the function sets in Lambda for its memory size.
	gcpolicy.Apply(spec.MemoryMB, os.Getenv)
	api, err := DynamoClient(ctx, spec.Endpoint, spec.WriteConcurrency+spec.PeerConcurrency, spec.DynamoLatency)
	if err != nil {
		return Result{}, err
	}
	store := ddbstore.New(api, spec.Memories, spec.State, time.Now)
	if err := store.CreateTables(ctx); err != nil {
		return Result{}, fmt.Errorf("create tables: %w", err)
	}
	switch spec.Mode {
	case ModeCatchup:
		return runCatchup(ctx, spec, store)
	case ModeRaw, ModeSeq:
		return runRaw(ctx, spec, api, store)
	}
	return Result{}, fmt.Errorf("unknown mode %q", spec.Mode)
}

// meter measures heap allocations and wall time of the part it brackets.
type meter struct {
	m0      runtime.MemStats
	cpu0    float64
	start   time.Time
	profile *os.File
}

// startMeter starts measuring, and profiling to profile when not "".
func startMeter(profile string) *meter {
	runtime.GC()
	m := &meter{}
	if profile != "" {
		if f, err := os.Create(profile); err == nil && pprof.StartCPUProfile(f) == nil {
			m.profile = f
		}
	}
	runtime.ReadMemStats(&m.m0)
	m.cpu0 = selfCPU()
	m.start = time.Now()
	return m
}

func (m *meter) stop(res *Result) {
	res.Seconds = time.Since(m.start).Seconds()
	res.WorkCPUS = selfCPU() - m.cpu0
	if m.profile != nil {
		pprof.StopCPUProfile()
		m.profile.Close()
	}
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	res.Mallocs = m1.Mallocs - m.m0.Mallocs
	res.AllocBytes = m1.TotalAlloc - m.m0.TotalAlloc
	res.MaxRSS = peakResidentBytes()
}

// selfCPU is this process's user + system seconds so far.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
}

// runCatchup runs one pass as functions/catchup wires it: the peers client
// with its defaults, the store as both Store and Breakers.
func runCatchup(ctx context.Context, spec Spec, store *ddbstore.Store) (Result, error) {
	res := Result{Mode: ModeCatchup, Baseline: residentBytes()}
	var src catchup.Source = peers.NewClient(peers.Config{LocalID: "bench-replica"})
	var st catchup.Store = store
	var tr *tracer
	if spec.Trace {
		tr = newTracer()
		src, st = tracedSource{src, tr}, tracedStore{st, tr}
	}
	runner := catchup.New(src, st, catchup.Options{
		PageLimit:        spec.PageLimit,
		PeerConcurrency:  spec.PeerConcurrency,
		WriteConcurrency: spec.WriteConcurrency,
		Margin:           spec.Margin,
		Budget:           10 * time.Minute,
		Breakers:         store,
	})
	m := startMeter(spec.CPUProfile)
	runCtx, cancel := context.WithCancel(ctx)
	if spec.Deadline > 0 {
		runCtx, cancel = context.WithDeadline(ctx, m.start.Add(spec.Deadline))
	}
	defer cancel()
	rep := runner.Run(runCtx, catchup.Pass{Peers: spec.Peers})
	m.stop(&res)
	if spec.Deadline > 0 {
		slack := m.start.Add(spec.Deadline).Sub(time.Now()).Milliseconds()
		res.SlackMs = &slack
	}
	for _, p := range rep.Peers {
		res.Rows += p.Applied
		res.Done += p.Applied + p.Stale + p.Invalid
		res.Failed += p.Failed
		res.Pages += p.Pages
		res.Peers = append(res.Peers, PeerOutcome{ID: p.Peer, Status: p.Status, Applied: p.Applied, Error: p.Error})
	}
	if tr != nil {
		o := tr.overlap()
		res.Overlap = &o
	}
	return res, nil
}
