package bench

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
)

// Case is one throughput measurement: N rows split evenly over P peers.
type Case struct {
	N, P          int
	PeerDelay     time.Duration // each peer waits this long before it answers
	DynamoLatency time.Duration // added to every DynamoDB request
	Settings      Settings      // zero fields: the harness's
	NoRaw         bool          // measure the pass only
	// Reps measures the pair this many times (default 1), alternating which
	// goes first (raw, pass, pass, raw, ...) so that a change of background
	// load during the case weighs on both alike.
	Reps int
}

// Pair is one catch-up measured against its ceiling.
type Pair struct {
	Case
	Catchup Result   // the run of median rate, for the other figures
	Raw     Result   // likewise; zero when Case.NoRaw
	Runs    []Result // every run: catchup and raw alternating as measured
}

// Ratio is catch-up throughput over raw throughput, each summed over the
// repetitions.
func (p Pair) Ratio() float64 {
	var cu, raw float64
	for _, r := range p.Runs {
		if r.Mode == ModeCatchup {
			cu += r.RowsPerSecond()
		} else {
			raw += r.RowsPerSecond()
		}
	}
	if raw == 0 {
		return 0
	}
	return cu / raw
}

// CPURatio is the pass's CPU per row over raw's, each summed over the
// repetitions (CPU seconds over rows).
func (p Pair) CPURatio() float64 {
	var cuCPU, cuRows, rawCPU, rawRows float64
	for _, r := range p.Runs {
		if r.Mode == ModeCatchup {
			cuCPU, cuRows = cuCPU+r.WorkCPUS, cuRows+float64(r.Rows)
		} else {
			rawCPU, rawRows = rawCPU+r.WorkCPUS, rawRows+float64(r.Rows)
		}
	}
	if rawCPU == 0 || cuRows == 0 || rawRows == 0 {
		return 0
	}
	return (cuCPU / cuRows) / (rawCPU / rawRows)
}

// RatioRange is the lowest and highest ratio of one repetition's runs.
func (p Pair) RatioRange() (lo, hi float64) {
	cu, raw := p.rates(ModeCatchup), p.rates(ModeRaw)
	lo, hi = math.Inf(1), 0
	for i := range min(len(cu), len(raw)) {
		lo, hi = min(lo, cu[i]/raw[i]), max(hi, cu[i]/raw[i])
	}
	return lo, hi
}

// CPURange is the lowest and highest CPU per row, in µs, of mode's runs:
// single runs vary more than rates do (a collection falls in a run or not).
func (p Pair) CPURange(mode string) (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, r := range p.Runs {
		if r.Mode == mode && r.Rows > 0 {
			lo, hi = min(lo, cpuPerRow(r)), max(hi, cpuPerRow(r))
		}
	}
	return lo, hi
}

func (p Pair) rates(mode string) []float64 {
	var out []float64
	for _, r := range p.Runs {
		if r.Mode == mode {
			out = append(out, r.RowsPerSecond())
		}
	}
	return out
}

// Throughput catches up c.N rows split evenly over c.P peers, and (unless
// c.NoRaw) writes the same items raw, at the same write concurrency, into
// fresh tables of the same dynalite. It fails when a pass did not write
// every row in one run.
func (h *Harness) Throughput(ctx context.Context, c Case) (Pair, error) {
	rows, err := h.rowsOf(c.N)
	if err != nil {
		return Pair{}, err
	}
	backlogs := Split(rows, Even(c.N, c.P))
	pair := Pair{Case: c}
	err = withMesh(backlogs, c.PeerDelay, func(m *Mesh) error {
		raw, cu := h.specs(c, m)
		if !c.NoRaw {
			if err := WriteRowsFile(raw.RowsFile, m, backlogs); err != nil {
				return err
			}
		}
		for rep := range max(c.Reps, 1) {
			order := []Spec{raw, cu}
			if rep%2 == 1 {
				order = []Spec{cu, raw}
			}
			for _, spec := range order {
				if spec.Mode == ModeRaw && c.NoRaw {
					continue
				}
				spec.CPUProfile = repProfile(spec.CPUProfile, rep)
				res, err := h.spawn(ctx, spec)
				pair.Runs = append(pair.Runs, res)
				if err == nil && spec.Mode == ModeCatchup {
					err = caughtUp(res, c.N)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	pair.Catchup, pair.Raw = median(pair.Runs, ModeCatchup), median(pair.Runs, ModeRaw)
	return pair, err
}

// specs are the raw and catch-up children of c.
func (h *Harness) specs(c Case, m *Mesh) (raw, cu Spec) {
	s := c.Settings
	base := Spec{PageLimit: s.PageLimit, PeerConcurrency: s.PeerConcurrency, WriteConcurrency: s.WriteConcurrency, DynamoLatency: c.DynamoLatency}
	raw, cu = base, base
	raw.Mode, raw.RowsFile = ModeRaw, filepath.Join(h.Dir, fmt.Sprintf("rows-%d-%d.jsonl", c.N, c.P))
	cu.Mode, cu.Peers = ModeCatchup, m.Peers
	if h.ProfileDir != "" {
		raw.CPUProfile = filepath.Join(h.ProfileDir, fmt.Sprintf("raw-%d-%d.pprof", c.N, c.P))
		cu.CPUProfile = filepath.Join(h.ProfileDir, fmt.Sprintf("catchup-%d-%d.pprof", c.N, c.P))
	}
	return raw, cu
}

// repProfile is the profile path of repetition rep: every repetition keeps
// its own (go tool pprof merges several given at once).
func repProfile(path string, rep int) string {
	if path == "" {
		return ""
	}
	return strings.TrimSuffix(path, ".pprof") + fmt.Sprintf("-rep%d.pprof", rep+1)
}

// median is the run of mode with the median rate (the lower of two middles).
func median(runs []Result, mode string) Result {
	var of []Result
	for _, r := range runs {
		if r.Mode == mode {
			of = append(of, r)
		}
	}
	if len(of) == 0 {
		return Result{}
	}
	slices.SortFunc(of, func(a, b Result) int { return cmp.Compare(a.RowsPerSecond(), b.RowsPerSecond()) })
	return of[(len(of)-1)/2]
}

// caughtUp checks that a pass wrote every one of n rows and left no peer
// behind.
func caughtUp(r Result, n int) error {
	if r.Rows != n || r.Failed != 0 {
		return fmt.Errorf("pass wrote %d of %d rows, %d failed", r.Rows, n, r.Failed)
	}
	for _, p := range r.Peers {
		if p.Status != catchup.StatusCaughtUp {
			return fmt.Errorf("peer %s ended %s: %s", p.ID, p.Status, p.Error)
		}
	}
	return nil
}
