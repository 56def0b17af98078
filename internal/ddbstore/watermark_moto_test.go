package ddbstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/watermark"
)

func TestAdvanceWatermark(t *testing.T) {
	s, _ := testStore(t)
	ctx := testContext(t)
	if m, err := s.Watermark(ctx, "p1"); err != nil || m != (watermark.Mark{}) {
		t.Fatalf("fresh Watermark = %+v, %v", m, err)
	}
	steps := []struct {
		from watermark.Mark
		to   string
		want error
		mark watermark.Mark // stored afterwards
	}{
		{watermark.Mark{}, "2026-06-01T10:00:05.5+00:00", nil, watermark.Mark{Value: "2026-06-01T10:00:05.5+00:00", Epoch: 0}},
		// byte-wise: "...05Z" sorts after "...05.5+00:00"
		{watermark.Mark{}, "2026-06-01T10:00:05Z", nil, watermark.Mark{Value: "2026-06-01T10:00:05Z", Epoch: 0}},
		{watermark.Mark{}, "2026-06-01T10:00:05.9+00:00", replica.ErrConflict, watermark.Mark{Value: "2026-06-01T10:00:05Z", Epoch: 0}},
		{watermark.Mark{}, "2026-06-01T10:00:05Z", replica.ErrConflict, watermark.Mark{Value: "2026-06-01T10:00:05Z", Epoch: 0}},
		{watermark.Mark{Value: "2026-06-01T10:00:05Z", Epoch: 1}, "2026-06-01T11:00:00Z", replica.ErrConflict, watermark.Mark{Value: "2026-06-01T10:00:05Z", Epoch: 0}},
		{watermark.Mark{Value: "2026-06-01T10:00:05Z", Epoch: 0}, "2026-06-01T11:00:00Z", nil, watermark.Mark{Value: "2026-06-01T11:00:00Z", Epoch: 0}},
	}
	for i, st := range steps {
		err := s.AdvanceWatermark(ctx, "p1", st.from, st.to)
		if !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Errorf("step %d: AdvanceWatermark(%+v, %s) = %v, want %v", i, st.from, st.to, err, st.want)
		}
		if got, err := s.Watermark(ctx, "p1"); err != nil || got != st.mark {
			t.Errorf("step %d: Watermark = %+v, %v; want %+v", i, got, err, st.mark)
		}
	}
	// A peer without a watermark cannot be advanced in a later epoch.
	if err := s.AdvanceWatermark(ctx, "p2", watermark.Mark{Epoch: 1}, "2026-06-01T10:00:05Z"); !errors.Is(err, replica.ErrConflict) {
		t.Errorf("advance of a new peer in epoch 1 = %v, want replica.ErrConflict", err)
	}
	// Watermarks are per peer.
	if m, _ := s.Watermark(ctx, "p2"); m != (watermark.Mark{}) {
		t.Errorf("p2 = %+v, want zero", m)
	}
}

func TestResetWatermark(t *testing.T) {
	s, c := testStore(t)
	ctx := testContext(t)
	if err := s.AdvanceWatermark(ctx, "p1", watermark.Mark{}, "2026-06-01T10:00:05Z"); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(time.Minute))
	prev, err := s.ResetWatermark(ctx, "p1", "2026-01-01T00:00:00Z", "replay January")
	if err != nil || prev != (watermark.Mark{Value: "2026-06-01T10:00:05Z", Epoch: 0}) {
		t.Fatalf("ResetWatermark = %+v, %v", prev, err)
	}
	// A pass that started before the reset cannot move it any more...
	if err := s.AdvanceWatermark(ctx, "p1", prev, "2026-07-01T00:00:00Z"); !errors.Is(err, replica.ErrConflict) {
		t.Errorf("advance in the old epoch = %v, want replica.ErrConflict", err)
	}
	// ...while a pass in the new epoch can, from the lower value.
	if err := s.AdvanceWatermark(ctx, "p1", watermark.Mark{Value: "2026-01-01T00:00:00Z", Epoch: 1}, "2026-02-01T00:00:00Z"); err != nil {
		t.Errorf("advance in the new epoch = %v", err)
	}
	c.Set(t0.Add(2 * time.Minute))
	if _, err := s.ResetWatermark(ctx, "p1", "", "full snapshot"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Watermark(ctx, "p1"); m != (watermark.Mark{Value: "", Epoch: 2}) {
		t.Errorf("after second reset: %+v", m)
	}
	hist, err := s.WatermarkHistory(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	want := []HistoryEntry{
		{At: t0.Add(time.Minute), Prev: watermark.Mark{Value: "2026-06-01T10:00:05Z", Epoch: 0}, New: watermark.Mark{Value: "2026-01-01T00:00:00Z", Epoch: 1}, Reason: "replay January"},
		{At: t0.Add(2 * time.Minute), Prev: watermark.Mark{Value: "2026-02-01T00:00:00Z", Epoch: 1}, New: watermark.Mark{Value: "", Epoch: 2}, Reason: "full snapshot"},
	}
	if diff := cmp.Diff(want, hist); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func TestResetWatermarkOfNewPeer(t *testing.T) {
	s, _ := testStore(t)
	ctx := testContext(t)
	prev, err := s.ResetWatermark(ctx, "p1", "2026-01-01T00:00:00Z", "start late")
	if err != nil || prev != (watermark.Mark{}) {
		t.Fatalf("ResetWatermark = %+v, %v", prev, err)
	}
	if m, _ := s.Watermark(ctx, "p1"); m != (watermark.Mark{Value: "2026-01-01T00:00:00Z", Epoch: 1}) {
		t.Errorf("Watermark = %+v", m)
	}
	if hist, _ := s.WatermarkHistory(ctx, "p1"); len(hist) != 1 || hist[0].Prev != (watermark.Mark{}) {
		t.Errorf("history = %+v", hist)
	}
	if hist, _ := s.WatermarkHistory(ctx, "p2"); len(hist) != 0 {
		t.Errorf("p2 history = %+v", hist)
	}
}

// raceAPI runs before ahead of the first transaction, as a pass advancing
// the watermark between a reset's read and its write would.
type raceAPI struct {
	dynamoAPI
	once   sync.Once
	before func()
}

func (r *raceAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	r.once.Do(r.before)
	return r.dynamoAPI.TransactWriteItems(ctx, in, opts...)
}

func TestResetWatermarkRace(t *testing.T) {
	s, _ := testStore(t)
	ctx := testContext(t)
	if err := s.AdvanceWatermark(ctx, "p1", watermark.Mark{}, "2026-06-01T10:00:05Z"); err != nil {
		t.Fatal(err)
	}
	racy := *s
	racy.api = &raceAPI{dynamoAPI: s.api, before: func() {
		if err := s.AdvanceWatermark(ctx, "p1", watermark.Mark{}, "2026-06-01T10:00:06Z"); err != nil {
			t.Error(err)
		}
	}}
	prev, err := racy.ResetWatermark(ctx, "p1", "2026-01-01T00:00:00Z", "r")
	if err != nil || prev != (watermark.Mark{Value: "2026-06-01T10:00:06Z", Epoch: 0}) {
		t.Errorf("ResetWatermark = %+v, %v; want the value the race wrote", prev, err)
	}
	if hist, _ := s.WatermarkHistory(ctx, "p1"); len(hist) != 1 || hist[0].Prev.Value != "2026-06-01T10:00:06Z" {
		t.Errorf("history = %+v", hist)
	}
}
