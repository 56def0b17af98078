package bench

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEvenAndSplit(t *testing.T) {
	for _, tc := range []struct {
		n, p int
		want []int
	}{
		{10, 1, []int{10}},
		{10, 3, []int{4, 3, 3}},
		{2, 4, []int{1, 1, 0, 0}},
	} {
		got := Even(tc.n, tc.p)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Even(%d, %d) (-want +got):\n%s", tc.n, tc.p, diff)
		}
		rows := make([]map[string]any, tc.n)
		for i := range rows {
			rows[i] = map[string]any{"i": i}
		}
		var seen []int
		for _, part := range Split(rows, got) {
			for _, r := range part {
				seen = append(seen, r["i"].(int))
			}
		}
		want := make([]int, tc.n)
		for i := range want {
			want[i] = i
		}
		if diff := cmp.Diff(want, seen); diff != "" {
			t.Errorf("Split(%d rows, %v) does not hand out each row once, in order (-want +got):\n%s", tc.n, got, diff)
		}
	}
}

func TestOverlap(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tr := &tracer{events: []event{
		// fetch 0-100, writes 100-300 and 150-250, fetch 200-260 hidden behind them
		{ms(0), true, 1}, {ms(100), true, -1},
		{ms(100), false, 1}, {ms(150), false, 1}, {ms(250), false, -1}, {ms(300), false, -1},
		{ms(200), true, 1}, {ms(260), true, -1},
	}}
	got := tr.overlap()
	want := Overlap{Fetches: 2, FetchBusyS: 0.16, WriteBusyS: 0.2, BothS: 0.06, HiddenFetches: 0.06 / 0.16}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })); diff != "" {
		t.Errorf("overlap (-want +got):\n%s", diff)
	}
}

func TestPairRatio(t *testing.T) {
	run := func(mode string, rows int, s float64) Result { return Result{Mode: mode, Rows: rows, Seconds: s} }
	p := Pair{Runs: []Result{
		run(ModeRaw, 1000, 1), run(ModeCatchup, 900, 1), // 0.9
		run(ModeCatchup, 1000, 2), run(ModeRaw, 1000, 2.5), // 1.25
	}}
	if got, want := p.Ratio(), (900.0+500)/(1000+400); math.Abs(got-want) > 1e-9 {
		t.Errorf("Ratio = %v, want %v", got, want)
	}
	lo, hi := p.RatioRange()
	if math.Abs(lo-0.9) > 1e-9 || math.Abs(hi-1.25) > 1e-9 {
		t.Errorf("RatioRange = %v, %v, want 0.9, 1.25", lo, hi)
	}
	if got := median(p.Runs, ModeCatchup).Rows; got != 1000 {
		t.Errorf("median catch-up run has %d rows, want the 500 rows/s one (1000 rows)", got)
	}
}
