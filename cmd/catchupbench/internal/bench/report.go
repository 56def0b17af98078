package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Report is everything one run of the harness measured.
type Report struct {
	Machine    Machine
	LoadBefore string // load average when the run started and ended
	LoadAfter  string
	Settings   Settings
	Took       time.Duration
	Throughput []Pair       // N x P at the settings
	Pipeline   *Pipelining  // nil when not measured
	Writes     []Pair       // write concurrency sweep
	PeerSweep  []Pair       // peer concurrency sweep
	Fairness   *Fairness    // nil when not measured
	RoundTrip  *RoundTrip   // nil when not measured
	Idle       *Idle        // nil when not measured
	Poller     PollerPolicy // the original poller, for comparison
	Deploy     Deploy       // the template's defaults, for the capacity table
}

// Deploy is what template.yaml deploys by default.
type Deploy struct {
	TimeoutS  int           // FunctionTimeout
	Margin    time.Duration // DeadlineMargin
	Schedule  string        // ScheduleExpression
	MemoryMB  int           // FunctionMemorySize
	PageLimit int           // PageLimit
	PeerConc  int           // PeerConcurrency
	WriteConc int           // WriteConcurrency
}

// PollerPolicy is the original poller: one page per run.
type PollerPolicy struct {
	PageRows int           // rows per run
	Every    time.Duration // time between runs
	RunLimit time.Duration // what one run of ours may use (timeout less margin)
}

// Markdown writes the report as the figures section of BENCHMARKS.md.
func (r *Report) Markdown(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("Measured on %s; load average %s at the start, %s at the end (the machine is shared: compare ratios, not rates). ",
		r.Machine, r.LoadBefore, r.LoadAfter)
	p("Settings: PAGE_LIMIT %d, PEER_CONCURRENCY %d, WRITE_CONCURRENCY %d unless a table says otherwise. The run took %s.\n\n",
		r.Settings.PageLimit, r.Settings.PeerConcurrency, r.Settings.WriteConcurrency, r.Took.Round(time.Second))
	r.targets(p)
	r.throughput(p)
	r.roundTrip(p)
	r.memory(p)
	r.pipeline(p)
	r.sweeps(p)
	r.fairness(p)
	r.poller(p)
	r.capacity(p)
}

type printf func(format string, a ...any)

// targets states issue 13's targets against this run: the pass at 0.9 or
// more of the independent ceiling, at most 1.1 times its CPU per row, on
// dynalite and with the round trip.
func (r *Report) targets(p printf) {
	pairs := slices.Clone(r.Throughput)
	if r.RoundTrip != nil {
		pairs = append(pairs, r.RoundTrip.Pair)
	}
	if len(pairs) == 0 {
		return
	}
	worstRate, worstCPU := math.Inf(1), 0.0
	for _, t := range pairs {
		worstRate, worstCPU = min(worstRate, t.Ratio()), max(worstCPU, t.CPURatio())
	}
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	p("**Targets** (every throughput case and the round trip): catch-up / raw at least 0.90: lowest %.2f, %s; CPU per row catch-up / raw at most 1.10: highest %.2f, %s.\n\n",
		worstRate, met(worstRate >= 0.9), worstCPU, met(worstCPU <= 1.1))
}

func (r *Report) throughput(p printf) {
	if len(r.Throughput) == 0 {
		return
	}
	p("### Throughput: catch-up against raw conditional PutItem\n\n")
	p("Each case ran %d time(s) each way, alternating which went first; rates are medians, the ratio is of summed rates, with the range of single repetitions.\n\n", max(r.Throughput[0].Reps, 1))
	p("CPU is user + system time of the child during the measured part (getrusage), per row written, of the run of median rate with the range of single runs; the CPU ratio is of CPU summed over every run. A vCPU-second is one second of one core.\n\n")
	p("| rows | peers | catch-up rows/s | raw rows/s | **catch-up / raw** | range | catch-up CPU µs/row (range) | raw CPU µs/row (range) | **CPU catch-up / raw** | catch-up rows per vCPU-s | catch-up allocs/row | raw allocs/row | catch-up KiB alloc/row | peak RSS MiB |\n")
	p("|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range r.Throughput {
		c, w := t.Catchup, t.Raw
		lo, hi := t.RatioRange()
		clo, chi := t.CPURange(ModeCatchup)
		rlo, rhi := t.CPURange(ModeRaw)
		p("| %d | %d | %.0f | %.0f | **%.2f** | %.2f–%.2f | %.0f (%.0f–%.0f) | %.0f (%.0f–%.0f) | **%.2f** | %.0f | %.0f | %.0f | %.1f | %.1f |\n",
			t.N, t.P, c.RowsPerSecond(), w.RowsPerSecond(), t.Ratio(), lo, hi,
			cpuPerRow(c), clo, chi, cpuPerRow(w), rlo, rhi, t.CPURatio(), rowsPerCPU(c),
			perRow(float64(c.Mallocs), c), perRow(float64(w.Mallocs), w),
			perRow(float64(c.AllocBytes)/1024, c), mib(c.MaxRSS))
	}
	p("\n")
}

func (r *Report) memory(p printf) {
	byP := map[int][]Pair{}
	var ps []int
	for _, t := range r.Throughput {
		if _, ok := byP[t.P]; !ok {
			ps = append(ps, t.P)
		}
		byP[t.P] = append(byP[t.P], t)
	}
	p("### Memory as the backlog grows\n\n| peers | rows | peak RSS MiB | RSS before the pass MiB | peak / smallest N's peak |\n|---:|---:|---:|---:|---:|\n")
	for _, np := range ps {
		first := byP[np][0].Catchup.MaxRSS
		for _, t := range byP[np] {
			p("| %d | %d | %.1f | %.1f | %.2f |\n", np, t.N, mib(t.Catchup.MaxRSS), mib(t.Catchup.Baseline), float64(t.Catchup.MaxRSS)/float64(first))
		}
	}
	p("\n")
}

func (r *Report) pipeline(p printf) {
	pl := r.Pipeline
	if pl == nil || pl.Fast.Overlap == nil || pl.Slow.Overlap == nil {
		return
	}
	p("### Pipelining: a slow peer\n\n")
	p("One peer, %d rows, %d pages. The slow peer waits %s before each answer, the time the fast run spent writing one page.\n\n",
		pl.N, pl.Fast.Pages, pl.Delay.Round(time.Millisecond))
	p("| run | seconds | fetches | fetching s | writing s | both at once s | fetch time hidden behind writes |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, x := range []struct {
		name string
		r    Result
	}{{"fast peer", pl.Fast}, {"slow peer", pl.Slow}} {
		o := x.r.Overlap
		p("| %s | %.2f | %d | %.2f | %.2f | %.2f | %.0f%% |\n", x.name, x.r.Seconds, o.Fetches, o.FetchBusyS, o.WriteBusyS, o.BothS, 100*o.HiddenFetches)
	}
	p("\nFetching and writing in turn, the slow run would take %.2f s; it took %.2f s (%.2f of that), hiding %.0f%% of the added fetch time.\n\n",
		pl.Serial, pl.Slow.Seconds, pl.Slow.Seconds/pl.Serial, 100*pl.Hidden())
}

func (r *Report) sweeps(p printf) {
	if len(r.Writes) > 0 {
		w0 := r.Writes[0]
		p("### Write concurrency\n\n%d rows from %d peer, each DynamoDB request delayed %s (a network round trip to DynamoDB); %d repetition(s) each way.\n\n",
			w0.N, w0.P, w0.DynamoLatency, max(w0.Reps, 1))
		p("| WRITE_CONCURRENCY | catch-up rows/s | raw rows/s | catch-up / raw | catch-up CPU µs/row | raw CPU µs/row | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, t := range r.Writes {
			p("| %d | %.0f | %.0f | %.2f | %.0f | %.0f | %.1f |\n", t.Settings.WriteConcurrency, t.Catchup.RowsPerSecond(), t.Raw.RowsPerSecond(),
				t.Ratio(), cpuPerRow(t.Catchup), cpuPerRow(t.Raw), mib(t.Catchup.MaxRSS))
		}
		p("\n")
	}
	if len(r.PeerSweep) > 0 {
		s0 := r.PeerSweep[0]
		p("### Peer concurrency\n\n%d rows over %d peers, each peer waiting %s before it answers; raw PutItem measured next to each pass, as the yardstick; %d repetition(s) each way.\n\n", s0.N, s0.P, s0.PeerDelay, max(s0.Reps, 1))
		p("| PEER_CONCURRENCY | catch-up rows/s | raw rows/s | catch-up / raw | catch-up CPU µs/row | raw CPU µs/row | peak RSS MiB |\n|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, t := range r.PeerSweep {
			p("| %d | %.0f | %.0f | %.2f | %.0f | %.0f | %.1f |\n", t.Settings.PeerConcurrency, t.Catchup.RowsPerSecond(), t.Raw.RowsPerSecond(), t.Ratio(),
				cpuPerRow(t.Catchup), cpuPerRow(t.Raw), mib(t.Catchup.MaxRSS))
		}
		p("\n")
	}
}

func (r *Report) fairness(p printf) {
	f := r.Fairness
	if f == nil || len(f.Result.Peers) == 0 {
		return
	}
	h := f.HugePeer()
	p("### Fairness\n\n1 peer with %d rows (pulled first) and %d peers with %d rows each; deadline %s, margin %s.\n\n",
		f.Huge, f.Smalls, f.Small, f.Deadline, f.Margin)
	p("| small peers caught up | huge peer | huge peer rows written | small peers' rows | returned before the deadline by | within the margin (0 to %s before it) |\n|---:|---|---:|---:|---:|---|\n", f.Margin)
	slack, within := "?", false
	if s := f.Result.SlackMs; s != nil {
		slack = fmt.Sprintf("%d ms", *s)
		within = *s >= 0 && *s <= f.Margin.Milliseconds()
	}
	p("| %d of %d | %s | %d | %d | %s | %v |\n\n", f.SmallCaughtUp(), f.Smalls, h.Status, h.Applied, f.Small*f.Smalls, slack, within)
}

func (r *Report) poller(p printf) {
	var rate float64
	for _, t := range r.Throughput {
		if t.P == 1 {
			rate = max(rate, t.Catchup.RowsPerSecond())
		}
	}
	pp := r.Poller
	if rate == 0 || pp.PageRows == 0 {
		return
	}
	p("### Against the original poller\n\nThe original poller took one page of %d rows per run, one run every %s. One run of ours may pull for %s; at the catch-up rate measured above for one peer (%.0f rows/s):\n\n",
		pp.PageRows, pp.Every, pp.RunLimit, rate)
	p("| backlog rows | poller runs | poller time | our runs | our time |\n|---:|---:|---:|---:|---:|\n")
	for _, n := range []int{10000, 50000, 100000, 1000000} {
		runs := (n + pp.PageRows - 1) / pp.PageRows
		drain := time.Duration(float64(n) / rate * float64(time.Second))
		ours := int(math.Ceil(drain.Seconds() / pp.RunLimit.Seconds()))
		wall := drain // the last run ends when the backlog does
		if ours > 1 {
			wall = time.Duration(ours-1)*pp.Every + drain - time.Duration(ours-1)*pp.RunLimit
		}
		p("| %d | %d | %s | %d | %s |\n", n, runs, hours(time.Duration(runs)*pp.Every), ours, wall.Round(time.Second))
	}
	p("\n")
}

// cpuPerRow is the measured part's CPU per row written, in µs.
func cpuPerRow(r Result) float64 { return perRow(r.WorkCPUS*1e6, r) }

// rowsPerCPU is rows written per CPU-second of the measured part.
func rowsPerCPU(r Result) float64 {
	if r.WorkCPUS <= 0 {
		return 0
	}
	return float64(r.Rows) / r.WorkCPUS
}

func perRow(v float64, r Result) float64 {
	if r.Rows == 0 {
		return 0
	}
	return v / float64(r.Rows)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func hours(d time.Duration) string { return fmt.Sprintf("%.1f h", d.Hours()) }
