package catchup

// A peer's data reaches the memories table and nothing else: whatever ids
// and fields its rows claim, the pass writes state (watermark, quarantine,
// breaker) only under the id of the peer it pulled.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/watermark"
)

// hostileRows are rows that claim to be state: ids shaped like state keys,
// fields named like the state table's and the store's own attributes, a
// claimed origin of another peer, and versions of the good peer's memories.
func hostileRows() []json.RawMessage {
	var out []json.RawMessage
	add := func(id string, extra map[string]any) {
		row := peertest.Memory(id, "2026-06-01T11:00:00.000Z")
		for k, v := range extra {
			row[k] = v
		}
		raw, _ := json.Marshal(row)
		out = append(out, raw)
	}
	add("peer:good", map[string]any{"pk": "peer#good", "sk": "watermark", "value": "9999-12-31T23:59:59Z", "epoch": 99})
	add("registry", map[string]any{"pk": "registry", "sk": "peer#evil2", "url": "https://evil.example"})
	add("quarantine:good", map[string]any{"pk": "quarantine#good", "sk": "row#x"})
	add("g-0001", map[string]any{"peer": "good", "_cu_peer": "good"}) // store meta prefix: unwritable
	add("g-0002", map[string]any{"priority": 99})                     // invalid
	add("g-0003", nil)                                                // a newer version of good's memory: fine
	return out
}

// stateWrite is one write the pass made outside the memories table.
type stateWrite struct{ kind, peer, detail string }

// recordingStore notes every write and which peer it was made for.
type recordingStore struct {
	Store
	mu     sync.Mutex
	writes []stateWrite
	memory map[string]string // memory id@updated_at -> the peer its version came from
}

func (s *recordingStore) note(w stateWrite) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, w)
}

func (s *recordingStore) PutMemory(ctx context.Context, m replica.Memory) error {
	s.mu.Lock()
	s.memory[m.ID+"@"+m.UpdatedAt] = m.Peer
	s.mu.Unlock()
	return s.Store.PutMemory(ctx, m)
}

func (s *recordingStore) Quarantine(ctx context.Context, q replica.Quarantined) error {
	s.note(stateWrite{"quarantine", q.Peer, q.RowID})
	return s.Store.Quarantine(ctx, q)
}

func (s *recordingStore) AdvanceWatermark(ctx context.Context, peer string, from watermark.Mark, to string) error {
	s.note(stateWrite{"watermark", peer, to})
	return s.Store.AdvanceWatermark(ctx, peer, from, to)
}

// recordingBreakers notes every breaker write.
type recordingBreakers struct {
	*memBreakers
	s *recordingStore
}

func (b recordingBreakers) RecordFailure(ctx context.Context, peer, errText string, backoff func(int) time.Duration) (replica.BreakerState, error) {
	b.s.note(stateWrite{"breaker", peer, errText})
	return b.memBreakers.RecordFailure(ctx, peer, errText, backoff)
}

func (b recordingBreakers) RecordSuccess(ctx context.Context, peer string) error {
	b.s.note(stateWrite{"breaker", peer, "success"})
	return b.memBreakers.RecordSuccess(ctx, peer)
}

func TestPeerWritesOnlyMemoriesAndItsOwnState(t *testing.T) {
	good, goodTS := peertest.NewHTTPTest(t)
	good.Load(peertest.Backlog(20, 11, 2, true))
	for i := range 5 {
		good.Put(peertest.Memory(fmt.Sprintf("g-%04d", i), "2026-06-01T10:30:00.000Z"))
	}
	evil, evilTS := peertest.NewHTTPTest(t)
	for _, raw := range hostileRows() {
		evil.PutRaw(raw)
	}
	mem := newMemStore()
	rec := &recordingStore{Store: mem, memory: map[string]string{}}
	ps := []peers.Peer{{ID: "good", URL: goodTS.URL}, {ID: "evil", URL: evilTS.URL}}
	run := func(evilFails bool) {
		if evilFails {
			evil.SetFaultFunc(always(peertest.Status(500)))
		}
		r := New(wireClient(time.Second), rec, Options{PageLimit: 7, Now: func() time.Time { return testNow },
			Breakers: recordingBreakers{newMemBreakers(func() time.Time { return testNow }), rec}})
		r.Run(context.Background(), Pass{Peers: ps})
	}
	run(false)
	run(true) // a failing evil peer: its breaker, and only its breaker
	evilRows := map[string]bool{}
	evilVersions := map[string]bool{}
	for _, r := range evil.Rows() {
		evilRows[r.ID], evilVersions[r.ID+"@"+r.UpdatedAt] = true, true
	}
	for _, w := range rec.writes {
		if w.peer != "good" && w.peer != "evil" {
			t.Errorf("%s write for %q (%s): not a configured peer", w.kind, w.peer, w.detail)
		}
		if w.kind == "quarantine" && evilRows[w.detail] && w.peer != "evil" {
			t.Errorf("evil's row %s quarantined under %q", w.detail, w.peer)
		}
	}
	if got := mem.marks["good"].Value; got != "2026-06-01T10:30:00.000Z" {
		t.Errorf("good's watermark %q: moved by something other than good's rows", got)
	}
	for v, from := range rec.memory {
		if evilVersions[v] != (from == "evil") {
			t.Errorf("memory %s written as from %q", v, from)
		}
	}
	if held := mem.items["g-0003"]; held.Peer != "evil" {
		t.Errorf("g-0003: the newer version (evil's) should win as a memory, table holds %q's", held.Peer)
	}
}

// TestHostileRowsReachNoStateItem runs the hostile rows into DynamoDB and
// lists the state table: only the pulled peer's own watermark, breaker and
// quarantine items are there, and the rows shaped like state items are
// memories.
func TestHostileRowsReachNoStateItem(t *testing.T) {
	rig := newMotoRig(t, 6, 0)
	evil, evilTS := peertest.NewHTTPTest(t)
	for _, raw := range hostileRows() {
		evil.PutRaw(raw)
	}
	r := New(wireClient(time.Second), rig.direct, Options{PageLimit: 4, Now: func() time.Time { return testNow }, Breakers: rig.direct})
	rep := r.Run(context.Background(), Pass{Peers: []peers.Peer{{ID: "evil", URL: evilTS.URL}}})
	if p := rep.Peers[0]; p.Status != StatusCaughtUp || p.Invalid != 2 {
		t.Fatalf("report %+v, want caught up with 2 quarantined", p)
	}
	out, err := rig.client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(rig.state)})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range out.Items {
		pk := item[ddbstore.StatePartitionKey].(*types.AttributeValueMemberS).Value
		sk := item[ddbstore.StateSortKey].(*types.AttributeValueMemberS).Value
		switch {
		case pk == "peer#evil" && (sk == "watermark" || sk == "breaker"):
		case pk == "quarantine#evil" && strings.HasPrefix(sk, "row#"):
		default:
			t.Errorf("state item %s / %s written by a pass over evil", pk, sk)
		}
	}
	for _, id := range []string{"peer:good", "registry", "quarantine:good"} {
		if _, found, err := rig.direct.GetMemory(context.Background(), id); !found || err != nil {
			t.Errorf("row %s not in the memories table: %v", id, err)
		}
	}
}
