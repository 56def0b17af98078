// Package bench measures the catch-up pass end to end: fake peers
// (internal/peertest) on loopback listeners, the real peers client, runner
// and DynamoDB store, and dynalite (npm dynalite@4) as the DynamoDB API.
//
// Every measurement runs in a child process of the harness's command, so
// that its peak resident set (from the child's rusage) is the pass's own and
// not the fake peers' or the generated rows'. The ceiling for the pass, raw
// conditional PutItem throughput with the same items at the same
// concurrency against the same dynalite, is measured in the same run, and
// figures are reported as ratios, which survive a change of machine and
// background load better than absolute rates.
package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aimemory/catchup/internal/peertest"
)

// Settings are the pass's options under test, as the function's
// PAGE_LIMIT, PEER_CONCURRENCY and WRITE_CONCURRENCY would set them.
type Settings struct {
	PageLimit        int
	PeerConcurrency  int
	WriteConcurrency int
}

// Harness runs scenarios against one dynalite. It is not safe for
// concurrent use: one measurement at a time, so that they do not compete.
type Harness struct {
	Exe      string // the command that serves ChildFlag
	Endpoint string // dynalite
	Dir      string // for rows files
	Settings Settings
	// ProfileDir, when set, receives a CPU profile of each throughput child,
	// one file a repetition.
	ProfileDir string
	// MemoryMB is the function's memory size, whose GC policy every child
	// runs under (gcpolicy); 0: GOGC 400 and no soft limit.
	MemoryMB int
	admin    *dynamodb.Client
	rows     []map[string]any
	seq      int
}

// NewHarness prepares a harness; it builds rowsNeeded rows once
// (peertest.Backlog, tie groups of 3, mixed timestamp formats), the most any
// scenario will serve.
func NewHarness(ctx context.Context, exe, endpoint, dir string, s Settings, rowsNeeded int) (*Harness, error) {
	admin, err := DynamoClient(ctx, endpoint, 4, 0)
	if err != nil {
		return nil, err
	}
	return &Harness{
		Exe: exe, Endpoint: endpoint, Dir: dir, Settings: s, admin: admin,
		rows: peertest.Backlog(rowsNeeded, 1, 3, true),
	}, nil
}

// spawn fills in the endpoint, fresh table names and, when unset, the
// harness's settings; runs spec in a child; and drops its tables after.
func (h *Harness) spawn(ctx context.Context, spec Spec) (Result, error) {
	h.seq++
	spec.Endpoint = h.Endpoint
	spec.Memories = fmt.Sprintf("bench-%03d-memories", h.seq)
	spec.State = fmt.Sprintf("bench-%03d-state", h.seq)
	if spec.PageLimit == 0 {
		spec.PageLimit = h.Settings.PageLimit
	}
	if spec.PeerConcurrency == 0 {
		spec.PeerConcurrency = h.Settings.PeerConcurrency
	}
	if spec.WriteConcurrency == 0 {
		spec.WriteConcurrency = h.Settings.WriteConcurrency
	}
	if spec.MemoryMB == 0 {
		spec.MemoryMB = h.MemoryMB
	}
	defer DeleteTables(context.WithoutCancel(ctx), h.admin, spec.Memories, spec.State)
	return Spawn(ctx, h.Exe, spec)
}

// rowsOf returns the first n generated rows.
func (h *Harness) rowsOf(n int) ([]map[string]any, error) {
	if n > len(h.rows) {
		return nil, fmt.Errorf("scenario needs %d rows, the harness built %d", n, len(h.rows))
	}
	return h.rows[:n], nil
}

// withMesh serves backlogs from fake peers (each waiting delay before it
// answers) for the duration of fn.
func withMesh(backlogs [][]map[string]any, delay time.Duration, fn func(*Mesh) error) error {
	m, err := StartMesh(backlogs, delay)
	if err != nil {
		return err
	}
	defer m.Close()
	return fn(m)
}
