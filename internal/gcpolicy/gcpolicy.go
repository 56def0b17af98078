// Package gcpolicy sets the Go collector's policy for a function of a given
// memory size: a soft memory limit under it, and a collector that lets the
// heap grow to five times what is live (GOGC 400) instead of twice.
//
// A pass allocates about 40 KiB a row and keeps little alive (the pages in
// flight), so with the default policy the collector runs every few hundred
// rows and its fixed costs add up. Lambda bills the memory configured, not the memory
// used, and gives CPU in proportion to it, so memory left unused is the
// cheaper thing to spend. The soft limit keeps the heap under the
// function's memory whatever GOGC allows: past it the collector works
// harder instead of Lambda ending the run.
package gcpolicy

import (
	"runtime/debug"
)

// Defaults, each unless the environment sets its variable.
const (
	Percent    = 400 // GOGC
	LimitShare = 85  // GOMEMLIMIT, as a percentage of the function's memory
)

// Policy is what Apply set; 0 for what it left to the environment (or, for
// Limit, to no known memory size).
type Policy struct {
	Percent int
	Limit   int64 // bytes
}

// Apply sets the policy for a function of memoryMB (0: unknown, no limit).
// getenv is os.Getenv: GOGC or GOMEMLIMIT set there is the operator's
// choice, which the runtime has already applied, and is kept.
func Apply(memoryMB int, getenv func(string) string) Policy {
	var p Policy
	if getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
		p.Percent = Percent
	}
	if getenv("GOMEMLIMIT") == "" && memoryMB > 0 {
		p.Limit = int64(memoryMB) * LimitShare / 100 << 20
		debug.SetMemoryLimit(p.Limit)
	}
	return p
}
