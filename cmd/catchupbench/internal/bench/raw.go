package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/row"
)

// WriteRowsFile writes every row of backlogs, one per line as
// "peer-id\trow JSON", for the raw writer: the same items, attributed to the
// same peers, as the catch-up pass writes.
func WriteRowsFile(path string, m *Mesh, backlogs [][]map[string]any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i, rows := range backlogs {
		for _, row := range rows {
			raw, err := json.Marshal(row)
			if err != nil {
				f.Close()
				return fmt.Errorf("encode row: %w", err)
			}
			fmt.Fprintf(w, "%s\t%s\n", m.Peers[i].ID, raw)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// rawRow is one line of a rows file: its peer and its bytes. Bytes hold no
// pointers, so 100,000 of them cost the collector nothing.
type rawRow struct {
	peer string
	raw  []byte
}

// readRows reads a rows file.
func readRows(path string) ([]rawRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []rawRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		peer, raw, ok := bytes.Cut(sc.Bytes(), []byte{'\t'})
		if !ok {
			return nil, fmt.Errorf("%s:%d: no tab", path, n)
		}
		out = append(out, rawRow{string(peer), bytes.Clone(raw)})
	}
	return out, sc.Err()
}

// requests decodes every row exactly as the pass decodes a page
// (row.DecodeRow) and builds the request the pass would send for it
// (ddbstore's PutMemoryInput: the item and the newer-wins condition), at
// most limit of them when limit > 0. The raw child calls it before its clock
// starts, so the ceiling carries none of the pass's per-row code.
func requests(rows []rawRow, store *ddbstore.Store, limit int) ([]*dynamodb.PutItemInput, error) {
	if limit > 0 && limit < len(rows) {
		rows = rows[:limit]
	}
	out := make([]*dynamodb.PutItemInput, len(rows))
	for i, r := range rows {
		decoded := row.DecodeRow(r.raw, true)
		if decoded.Invalid != nil {
			return nil, fmt.Errorf("row %d: %w", i, decoded.Invalid)
		}
		in, err := store.PutMemoryInput(replica.FromRow(r.peer, decoded))
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
		out[i] = in
	}
	return out, nil
}

// runRaw is the ceiling the pass is measured against: every request built
// before the clock starts, then sent with the plain SDK client's PutItem by
// WriteConcurrency workers and nothing else: no decoding, no digest, no
// fetching, no watermarks, no bookkeeping. With WriteConcurrency 1 it is the
// naive sequential loop, one PutItem at a time.
func runRaw(ctx context.Context, spec Spec, api *dynamodb.Client, store *ddbstore.Store) (Result, error) {
	rows, err := readRows(spec.RowsFile)
	if err != nil {
		return Result{}, err
	}
	reqs, err := requests(rows, store, spec.MaxRows)
	rows = nil
	if err != nil {
		return Result{}, err
	}
	res := Result{Mode: spec.Mode, Baseline: residentBytes()}
	var next, written, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	m := startMeter(spec.CPUProfile)
	for range max(spec.WriteConcurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stale *types.ConditionalCheckFailedException
			for i := next.Add(1) - 1; i < int64(len(reqs)); i = next.Add(1) - 1 {
				_, err := api.PutItem(ctx, reqs[i])
				switch {
				case err == nil:
					written.Add(1)
				case !errors.As(err, &stale):
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	m.stop(&res)
	res.Rows, res.Failed = int(written.Load()), int(failed.Load())
	res.Done = len(reqs) - res.Failed
	if e, ok := firstErr.Load().(string); ok {
		return res, fmt.Errorf("%d of %d puts failed, first: %s", res.Failed, len(reqs), e)
	}
	return res, nil
}

// residentBytes is this process's resident set now (VmRSS), 0 when unknown.
func residentBytes() int64 { return statusBytes("VmRSS:") }

// peakResidentBytes is this process's peak resident set (VmHWM), 0 when
// unknown. The child reads it itself: the ru_maxrss that wait4 reports for
// a child started by fork and exec also counts the parent's resident set at
// the fork (Linux carries the old memory map's peak over the exec), which
// here is the fake peers' rows.
func peakResidentBytes() int64 { return statusBytes("VmHWM:") }

// statusBytes reads a "kB" field of /proc/self/status.
func statusBytes(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
