package bench

import (
	"strconv"
	"time"
)

// lambdaFullVCPU is the memory size at which Lambda gives a function one
// full vCPU; below it CPU is in proportion to memory.
const lambdaFullVCPU = 1769

func (r *Report) roundTrip(p printf) {
	rt := r.RoundTrip
	if rt == nil || rt.Sequential.Rows == 0 {
		return
	}
	c, w, s := rt.Catchup, rt.Raw, rt.Sequential
	p("### Round trip: every DynamoDB request %s away\n\n", rt.DynamoLatency)
	p("%d rows from %d peer; every DynamoDB request of the pass, of raw and of the naive loop waits %s before it is sent (SDK middleware), standing in for the network to DynamoDB; %d repetition(s) each way. The naive loop is one PutItem at a time (the first %d of the same prebuilt requests).\n\n",
		rt.N, rt.P, rt.DynamoLatency, max(rt.Reps, 1), s.Rows)
	clo, chi := rt.CPURange(ModeCatchup)
	rlo, rhi := rt.CPURange(ModeRaw)
	p("| run | rows/s | CPU µs/row (range of single runs) | allocs/row |\n|---|---:|---:|---:|\n")
	p("| catch-up (WRITE_CONCURRENCY %d) | %.0f | %.0f (%.0f–%.0f) | %.0f |\n", rt.Settings.WriteConcurrency, c.RowsPerSecond(), cpuPerRow(c), clo, chi, perRow(float64(c.Mallocs), c))
	p("| raw, the ceiling | %.0f | %.0f (%.0f–%.0f) | %.0f |\n", w.RowsPerSecond(), cpuPerRow(w), rlo, rhi, perRow(float64(w.Mallocs), w))
	p("| naive loop | %.0f | %.0f | %.0f |\n\n", s.RowsPerSecond(), cpuPerRow(s), perRow(float64(s.Mallocs), s))
	p("**Catch-up / raw: %.2f** (range %.2f–%.2f); CPU per row catch-up / raw: **%.2f**. ", rt.Ratio(), lo(rt.Pair), hi(rt.Pair), rt.CPURatio())
	p("**The pass leads the naive loop %.1f×.** %d writers each waiting as the loop waits would reach %d × %.0f = %.0f rows/s; raw reached %.0f, so dynalite's own ceiling hides %.1f× of the lead here (against real DynamoDB, which has no such ceiling per table, the lead is bounded by WRITE_CONCURRENCY and the function's CPU instead).\n\n",
		rt.Lead(), rt.Settings.WriteConcurrency, rt.Settings.WriteConcurrency, s.RowsPerSecond(), rt.Unhidden(), w.RowsPerSecond(), rt.Unhidden()/max(w.RowsPerSecond(), 1))
}

func lo(p Pair) float64 { l, _ := p.RatioRange(); return l }
func hi(p Pair) float64 { _, h := p.RatioRange(); return h }

// passCPUPerRow is the pass's CPU seconds per row over every throughput run.
func (r *Report) passCPUPerRow() float64 {
	var cpu, rows float64
	for _, t := range r.Throughput {
		for _, x := range t.Runs {
			if x.Mode == ModeCatchup {
				cpu, rows = cpu+x.WorkCPUS, rows+float64(x.Rows)
			}
		}
	}
	if rows == 0 {
		return 0
	}
	return cpu / rows
}

// bufferedRow is the resident bytes per decoded row in flight, from the
// throughput case that holds the most rows at once (every one of its peers
// has a page being written and one prefetched), and that case's resident set
// before the pass.
func (r *Report) bufferedRow() (perRow float64, base int64, from Pair, ok bool) {
	for _, t := range r.Throughput {
		pl, pc := t.Settings.PageLimit, t.Settings.PeerConcurrency
		if pl == 0 || t.N/t.P < 2*pl {
			continue
		}
		held := 2 * pl * min(t.P, pc)
		b := float64(t.Catchup.MaxRSS-t.Catchup.Baseline) / float64(held)
		if !ok || held > 2*from.Settings.PageLimit*min(from.P, from.Settings.PeerConcurrency) {
			perRow, base, from, ok = b, t.Catchup.Baseline, t, true
		}
	}
	return perRow, base, from, ok
}

func (r *Report) capacity(p printf) {
	cpu := r.passCPUPerRow()
	d := r.Deploy
	if cpu == 0 || d.TimeoutS == 0 {
		return
	}
	run := time.Duration(d.TimeoutS)*time.Second - d.Margin
	p("### Capacity by memory size (estimates)\n\n")
	p("**These are estimates, not measurements on Lambda**, derived from this run's figures: Lambda gives a function CPU in proportion to its memory, a full vCPU at %d MB; the template's defaults are FunctionTimeout %d s, DeadlineMargin %s, schedule %s, PAGE_LIMIT %d, PEER_CONCURRENCY %d, WRITE_CONCURRENCY %d (read from template.yaml).\n\n",
		lambdaFullVCPU, d.TimeoutS, d.Margin, d.Schedule, d.PageLimit, d.PeerConc, d.WriteConc)
	p("- vCPU(M) = M / %d\n", lambdaFullVCPU)
	p("- CPU per row c = %.0f µs (the pass's measured-part CPU over every throughput run above)\n", cpu*1e6)
	var netBound float64
	if rt := r.RoundTrip; rt != nil && rt.Sequential.Rows > 0 {
		netBound = rt.Unhidden()
		p("- network bound = WRITE_CONCURRENCY × the naive loop's rate at %s = %.0f rows/s (round trip above)\n", rt.DynamoLatency, netBound)
	}
	p("- rows/s(M) = min(vCPU(M) / c, network bound)\n")
	p("- rows per run(M) = rows/s(M) × (FunctionTimeout − DeadlineMargin) = rows/s × %.0f s\n", run.Seconds())
	var idleCPU, idleWall float64
	if id := r.Idle; id != nil && id.Peers > 0 {
		idleCPU, idleWall = id.Result.WorkCPUS/float64(id.Peers), id.Result.Seconds/float64(id.Peers)
		p("- idle peer: %.2f ms CPU and %.2f ms of the run each (measured: %d empty peers, each %s away, DynamoDB %s away, PEER_CONCURRENCY %d)\n",
			idleCPU*1e3, idleWall*1e3, id.Peers, id.PeerDelay, id.DynamoLatency, r.Settings.PeerConcurrency)
		p("- idle peers per run(M) = (FunctionTimeout − DeadlineMargin) / max(idle CPU / vCPU(M), idle wall)\n")
	}
	p("\n| FunctionMemorySize MB | vCPU | est. rows/s | est. rows per run | est. idle peers per run |\n|---:|---:|---:|---:|---:|\n")
	for _, m := range []int{256, 512, 1024, 1769} {
		v := float64(m) / lambdaFullVCPU
		rate := v / cpu
		if netBound > 0 {
			rate = min(rate, netBound)
		}
		idle := "–"
		if idleCPU > 0 {
			idle = formatInt(run.Seconds() / max(idleCPU/v, idleWall))
		}
		p("| %d | %.2f | %s | %s | %s |\n", m, v, formatInt(rate), formatInt(rate*run.Seconds()), idle)
	}
	p("\n")
	b, base, from, ok := r.bufferedRow()
	if !ok {
		return
	}
	p("**Memory for PAGE_LIMIT × PEER_CONCURRENCY** (estimate): each peer in flight holds the page being written and the page prefetched, so RSS ≈ base + 2 × PAGE_LIMIT × PEER_CONCURRENCY × b, with base = %.0f MiB and b = %.1f KiB per buffered row (measured: %d rows over %d peers, peak RSS %.1f MiB; rows of about 700 bytes — larger rows scale b). Inside Lambda the soft memory limit is 85%% of the function's memory. The peak was measured under the function's GC policy (GOGC 400): when memory allows, the heap grows to five times what is live before a collection, so this over-states what a run needs; in a smaller function the soft limit makes the collector run sooner instead (more CPU, not a failed run).\n\n",
		mib(base), b/1024, from.N, from.P, mib(from.Catchup.MaxRSS))
	p("| PAGE_LIMIT | PEER_CONCURRENCY | est. RSS MiB | smallest FunctionMemorySize that keeps it under 85 %% |\n|---:|---:|---:|---:|\n")
	for _, pl := range []int{500, 1000, 2000, 10000} {
		for _, pc := range []int{8, 16, 32} {
			rss := float64(base) + 2*float64(pl*pc)*b
			p("| %d | %d | %.0f | %d MB |\n", pl, pc, rss/(1<<20), int(rss/(1<<20)/0.85/64+1)*64)
		}
	}
	p("\n")
}

// formatInt rounds v to a whole number with thousands separators.
func formatInt(v float64) string {
	n := int64(v + 0.5)
	s := ""
	for n >= 1000 {
		s = "," + pad3(n%1000) + s
		n /= 1000
	}
	return itoa(n) + s
}

func pad3(n int64) string {
	t := itoa(n)
	for len(t) < 3 {
		t = "0" + t
	}
	return t
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
