package gcpolicy

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestApplySetsThePolicyAndKeepsTheOperatorsChoice(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))

	env := map[string]string{}
	p := Apply(512, func(k string) string { return env[k] })
	if p != (Policy{Percent: 400, Limit: 435 << 20}) {
		t.Fatalf("policy %+v, want GOGC 400 and 85%% of 512 MB", p)
	}
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GOGC %d, want 400", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 435<<20 {
		t.Errorf("memory limit %d, want %d", got, 435<<20)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	env = map[string]string{"GOGC": "50", "GOMEMLIMIT": "100MiB"}
	if p := Apply(512, func(k string) string { return env[k] }); p != (Policy{}) {
		t.Errorf("with GOGC and GOMEMLIMIT set: policy %+v, want none", p)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC changed to %d with GOGC set", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit changed to %d with GOMEMLIMIT set", got)
	}
	if p := Apply(0, func(string) string { return "" }); p.Limit != 0 {
		t.Errorf("no memory size known: limit %d, want none", p.Limit)
	}
}
