package bench

import (
	"context"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/peers"
)

// The Instant benchmarks are the pass and the raw ceiling against a
// DynamoDB that answers every request at once with {} (accepted, no item):
// no dynalite sharing the two cores, so CPU per row moves less between
// runs than there, and an A/B of the pass's own code shows on a quiet
// machine (alternate the builds, several runs each). The figure is the test process's CPU per row, the in-process
// answering server's (and, for the pass, the fake peer's) included: compare
// the two benchmarks' difference, the pass's own work, not their ratio.
//
//	go test ./cmd/catchupbench/internal/bench -run '^$' -bench Instant -benchtime 20x

// instantDynamo is a DynamoDB client whose every request is answered {}.
func instantDynamo(b *testing.B) *dynamodb.Client {
	b.Helper()
	body := []byte("{}")
	sum := strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amz-Crc32", sum) // the SDK checks it
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	api, err := DynamoClient(context.Background(), srv.URL, 40, 0)
	if err != nil {
		b.Fatal(err)
	}
	return api
}

// BenchmarkPassInstantDynamo is one pass from one fake peer per iteration.
func BenchmarkPassInstantDynamo(b *testing.B) {
	api := instantDynamo(b)
	m := startMesh(b, 1, 0)
	client := peers.NewClient(peers.Config{LocalID: "bench-replica"})
	runtime.GC()
	c0 := selfCPU()
	b.ResetTimer()
	for range b.N {
		r := catchup.New(client, ddbstore.New(api, "m", "s", time.Now), catchup.Options{})
		if n := applied(r.Run(context.Background(), catchup.Pass{Peers: m.Peers})); n != benchRows {
			b.Fatalf("pass applied %d of %d rows", n, benchRows)
		}
	}
	b.ReportMetric((selfCPU()-c0)*1e6/float64(b.N*benchRows), "cpu-µs/row")
}

// BenchmarkRawInstantDynamo sends the pass's requests, built before the
// clock, as the raw child does: WRITE_CONCURRENCY workers, plain PutItem.
func BenchmarkRawInstantDynamo(b *testing.B) {
	api := instantDynamo(b)
	s := ddbstore.New(api, "m", "s", time.Now)
	var reqs []*dynamodb.PutItemInput
	for _, m := range memories(b) {
		in, err := s.PutMemoryInput(m)
		if err != nil {
			b.Fatal(err)
		}
		reqs = append(reqs, in)
	}
	runtime.GC()
	c0 := selfCPU()
	b.ResetTimer()
	for range b.N {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range catchup.DefaultWriteConcurrency {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(reqs)); i = next.Add(1) - 1 {
					if _, err := api.PutItem(context.Background(), reqs[i]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric((selfCPU()-c0)*1e6/float64(b.N*len(reqs)), "cpu-µs/row")
}
