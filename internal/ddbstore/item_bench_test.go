package ddbstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/row"
)

// BenchmarkPutMemoryInput builds the request PutMemory sends for one row of
// the benchmark's shape: item, digest and condition values, in the pooled
// storage PutMemory builds it in.
func BenchmarkPutMemoryInput(b *testing.B) {
	raw, err := json.Marshal(peertest.Memory("bl-00001", "2026-06-01T10:00:00.123456Z"))
	if err != nil {
		b.Fatal(err)
	}
	row := row.DecodeRow(raw, true)
	if row.Invalid != nil {
		b.Fatal(row.Invalid)
	}
	m := replica.FromRow("p1", row)
	s := &Store{memories: "memories", now: func() time.Time { return t0 }}
	b.ReportAllocs()
	for b.Loop() {
		st := itemStores.Get().(*itemStore)
		if _, err := s.putMemoryInput(m, st); err != nil {
			b.Fatal(err)
		}
		st.release()
	}
}
