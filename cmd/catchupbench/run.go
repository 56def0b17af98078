package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aimemory/catchup/cmd/catchupbench/internal/bench"
)

// method is the text above the figures of BENCHMARKS.md.
//
//go:embed method.md
var method string

// options are the command line.
type options struct {
	dynalite   string
	ns, ps     []int
	only       map[string]bool
	settings   bench.Settings
	writes     []int
	peerConcs  []int
	latency    time.Duration
	peerDelay  time.Duration
	reps       int
	jsonOut    string
	profileDir string
	rtRows     int
	seqRows    int
	deploy     deploy
}

var scenarios = []string{"throughput", "roundtrip", "idle", "pipeline", "writes", "peers", "fairness"}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("catchupbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.dynalite, "dynalite", "node_modules/.bin/dynalite", "dynalite `executable` (npm install --no-save dynalite@4)")
	ns := fs.String("n", "10000,100000", "backlog sizes in rows")
	ps := fs.String("p", "1,10,100", "peer counts")
	only := fs.String("only", strings.Join(scenarios, ","), "scenarios to run: "+strings.Join(scenarios, ","))
	fs.IntVar(&o.settings.PageLimit, "page-limit", 500, "PAGE_LIMIT")
	fs.IntVar(&o.settings.PeerConcurrency, "peer-concurrency", 8, "PEER_CONCURRENCY")
	fs.IntVar(&o.settings.WriteConcurrency, "write-concurrency", 32, "WRITE_CONCURRENCY")
	writes := fs.String("writes", "4,8,16,32,64,128", "WRITE_CONCURRENCY values of the writes sweep")
	peerConcs := fs.String("peer-concurrencies", "2,4,8,16,32", "PEER_CONCURRENCY values of the peers sweep")
	fs.DurationVar(&o.latency, "dynamo-latency", 5*time.Millisecond, "latency added to each DynamoDB request in the writes sweep")
	fs.DurationVar(&o.peerDelay, "peer-delay", 50*time.Millisecond, "each peer's wait before answering in the peers sweep")
	fs.IntVar(&o.reps, "reps", 2, "times each throughput case runs each way, alternating which goes first")
	fs.StringVar(&o.jsonOut, "json", "", "also write every result as JSON to this `file`")
	fs.StringVar(&o.profileDir, "profile", "", "write CPU profiles of the throughput children to this `dir`")
	fs.IntVar(&o.rtRows, "roundtrip-rows", 10000, "rows of the round-trip scenario")
	fs.IntVar(&o.seqRows, "sequential-rows", 1000, "rows the naive loop writes in the round-trip scenario")
	template := fs.String("template", "template.yaml", "SAM `template` whose parameter defaults the capacity table assumes")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	for _, l := range []struct {
		name string
		s    string
		out  *[]int
	}{{"-n", *ns, &o.ns}, {"-p", *ps, &o.ps}, {"-writes", *writes, &o.writes}, {"-peer-concurrencies", *peerConcs, &o.peerConcs}} {
		if *l.out, err = ints(l.s); err != nil {
			return o, fmt.Errorf("%s: %w", l.name, err)
		}
	}
	if o.deploy, err = readDeploy(*template); err != nil {
		return o, err
	}
	o.only = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if !slices.Contains(scenarios, s) {
			return o, fmt.Errorf("-only: unknown scenario %q", s)
		}
		o.only[s] = true
	}
	return o, nil
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	d, err := bench.StartDynalite(ctx, o.dynalite, nil)
	if err != nil {
		return err
	}
	defer d.Stop()
	dir, err := os.MkdirTemp("", "catchupbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	h, err := bench.NewHarness(ctx, exe, d.Endpoint, dir, o.settings, max(slices.Max(o.ns), fairHuge+fairSmalls*fairSmall))
	if err != nil {
		return err
	}
	h.ProfileDir = o.profileDir
	h.MemoryMB = o.deploy.MemoryMB
	rep, err := measure(ctx, h, o, stderr)
	io.WriteString(stdout, method)
	rep.Markdown(stdout)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if werr := os.WriteFile(o.jsonOut, b, 0o644); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
