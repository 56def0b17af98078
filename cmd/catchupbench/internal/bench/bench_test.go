package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/row"
)

// Go benchmarks run only with -bench; `go test ./...` compiles them and runs
// the small tests of this package. The ones against dynalite skip when it is
// not installed (npm install --no-save dynalite@4 at the module root).
//
//	go test ./bench -run '^$' -bench . -benchtime 3x

const benchRows = 5000

var backlog = sync.OnceValue(func() []map[string]any { return peertest.Backlog(benchRows, 1, 3, true) })

// BenchmarkPassMemStore is one pass over in-process fake peers into a store
// in memory: the cost of the pass itself (HTTP, decoding, validation, the
// watermark rules, the write fan-out) without DynamoDB's.
func BenchmarkPassMemStore(b *testing.B) {
	for _, p := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("peers=%d", p), func(b *testing.B) {
			m := startMesh(b, p, 0)
			benchPass(b, func() catchup.Store { return newMemStore() }, m.Peers)
		})
	}
}

// BenchmarkPassDynalite is one pass into fresh dynalite tables, as the
// function wires it.
func BenchmarkPassDynalite(b *testing.B) {
	store := dynaliteStore(b)
	for _, p := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("peers=%d", p), func(b *testing.B) {
			m := startMesh(b, p, 0)
			benchPass(b, func() catchup.Store { return store(b) }, m.Peers)
		})
	}
}

// BenchmarkRawPutDynalite writes the same items with conditional PutItem
// and nothing else, at the default write concurrency: the ceiling of
// BenchmarkPassDynalite.
func BenchmarkRawPutDynalite(b *testing.B) {
	store := dynaliteStore(b)
	items := memories(b)
	b.ReportAllocs()
	b.ResetTimer()
	m0 := mallocs()
	for range b.N {
		b.StopTimer()
		s := store(b)
		b.StartTimer()
		putAll(b, s, items, 32)
	}
	reportRows(b, len(items), m0)
}

// BenchmarkDecodeRow decodes and validates one row as a page does.
func BenchmarkDecodeRow(b *testing.B) {
	raw, err := json.Marshal(backlog()[0])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if r := row.DecodeRow(raw, true); r.Invalid != nil {
			b.Fatal(r.Invalid)
		}
	}
}

// benchPass runs one pass per iteration, each into a fresh store (which
// also serves as the circuit breakers when it can, as ddbstore.Store does).
func benchPass(b *testing.B, newStore func() catchup.Store, ps []peers.Peer) {
	client := peers.NewClient(peers.Config{LocalID: "bench-replica"})
	b.ReportAllocs()
	b.ResetTimer()
	m0 := mallocs()
	for range b.N {
		b.StopTimer()
		st := newStore()
		opt := catchup.Options{}
		if bs, ok := st.(catchup.Breakers); ok {
			opt.Breakers = bs
		}
		r := catchup.New(client, st, opt)
		b.StartTimer()
		rep := r.Run(context.Background(), catchup.Pass{Peers: ps})
		if n := applied(rep); n != benchRows {
			b.Fatalf("pass applied %d of %d rows", n, benchRows)
		}
	}
	reportRows(b, benchRows, m0)
}

func applied(rep catchup.Report) int {
	n := 0
	for _, p := range rep.Peers {
		n += p.Applied
	}
	return n
}

// reportRows adds rows/s and allocs/row (since m0, setup included) to the
// benchmark's figures.
func reportRows(b *testing.B, rows int, m0 uint64) {
	total := float64(rows * b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(mallocs()-m0)/total, "allocs/row")
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

func startMesh(b *testing.B, p int, delay time.Duration) *Mesh {
	b.Helper()
	m, err := StartMesh(Split(backlog(), Even(benchRows, p)), delay)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.Close)
	return m
}

// memories are the items of backlog as the pass builds them.
func memories(b *testing.B) []replica.Memory {
	b.Helper()
	out := make([]replica.Memory, 0, benchRows)
	for _, m := range backlog() {
		raw, _ := json.Marshal(m)
		r := row.DecodeRow(raw, true)
		if r.Invalid != nil {
			b.Fatal(r.Invalid)
		}
		out = append(out, replica.FromRow("peer-000", r))
	}
	return out
}

// putAll writes items with w workers, as runRaw does.
func putAll(b *testing.B, s *ddbstore.Store, items []replica.Memory, w int) {
	var wg sync.WaitGroup
	next := make(chan replica.Memory)
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range next {
				if err := s.PutMemory(context.Background(), m); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for _, m := range items {
		next <- m
	}
	close(next)
	wg.Wait()
}

var (
	dynaliteOnce sync.Once
	dynaliteProc *Dynalite
	dynaliteErr  error
	tableSeq     int
)

// dynaliteStore starts dynalite once for the test binary (stopped by
// TestMain) and returns a maker of stores over fresh tables.
func dynaliteStore(b *testing.B) func(*testing.B) *ddbstore.Store {
	b.Helper()
	bin, _ := filepath.Abs("../node_modules/.bin/dynalite")
	if _, err := os.Stat(bin); err != nil {
		b.Skip("dynalite not installed: run npm install --no-save dynalite@4 at the module root")
	}
	dynaliteOnce.Do(func() { dynaliteProc, dynaliteErr = StartDynalite(context.Background(), bin, nil) })
	if dynaliteErr != nil {
		b.Fatal(dynaliteErr)
	}
	api, err := DynamoClient(context.Background(), dynaliteProc.Endpoint, 40, 0)
	if err != nil {
		b.Fatal(err)
	}
	return func(b *testing.B) *ddbstore.Store {
		tableSeq++
		s := ddbstore.New(api, fmt.Sprintf("gobench-%d-m", tableSeq), fmt.Sprintf("gobench-%d-s", tableSeq), time.Now)
		if err := s.CreateTables(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if dynaliteProc != nil {
		dynaliteProc.Stop()
	}
	os.Exit(code)
}
