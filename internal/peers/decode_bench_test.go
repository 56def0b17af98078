package peers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aimemory/catchup/internal/peertest"
)

// benchPage is a v0.7 page of n rows of the benchmark's shape.
func benchPage(b *testing.B, n int) []byte {
	b.Helper()
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = peertest.Memory(fmt.Sprintf("bl-%05d", i), "2026-06-01T10:00:00.123456Z")
	}
	body, err := json.Marshal(map[string]any{"memories": rows, "count": n, "limit": n, "scope_status": "ok"})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkDecodePage decodes and validates one page of 1,000 rows, as Fetch
// and then the writers do once the body is read; ns/op and allocs/op divided by 1,000 are the
// pass's decoding cost per row.
func BenchmarkDecodePage(b *testing.B) {
	body := benchPage(b, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		// As readPage reads a body, its Content-Length known.
		r := &capReader{r: bytes.NewReader(body), left: DefaultMaxBody, max: DefaultMaxBody, hint: int64(len(body))}
		p, err := decodePage(r, 1000)
		if err == nil {
			p.DecodeRows() // as the writers do, row by row
		}
		if err != nil || len(p.Rows) != 1000 || p.Rows[0].Invalid != nil {
			b.Fatal(err, len(p.Rows))
		}
	}
}
