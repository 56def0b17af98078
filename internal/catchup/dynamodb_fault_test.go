package catchup

// The pass against DynamoDB (moto): throttling, 500s, 503s and resets from
// the fault proxy; items DynamoDB can never take; two passes at once and a
// late old pass on the real condition expressions.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aimemory/catchup/internal/faultproxy"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
	"github.com/aimemory/catchup/internal/watermark"
)

func TestDynamoDBFaultsLoseNothing(t *testing.T) {
	rig := newMotoRig(t, 1, 0.25)
	w := newWire(t, nil)
	w.srv.Load(peertest.Sample(150, 7, 4))
	w.useStore(rig.faulty, ddbTruth{rig.direct})
	passes := 0 // run under faults, until one catches up
	for passes < 6 {
		passes++
		if rep := w.run(context.Background(), nil); rep.Status == StatusCaughtUp {
			break
		}
	}
	rig.proxy.SetRate(0)
	w.converge(t)
	counts := rig.proxy.Counts()
	t.Logf("moto behind the proxy: %d requests, %d faulted %v; %d passes under faults", rig.proxy.Requests(), rig.proxy.Injected(), counts, passes)
	for _, f := range faultproxy.AllFaults {
		if counts[f] == 0 {
			t.Errorf("no %v injected: the test did not exercise it", f)
		}
	}
}

// hugeRows are valid rows DynamoDB can never hold: one that the store
// measures as too large, one that only DynamoDB itself refuses.
func hugeRows() []map[string]any {
	a := peertest.Memory("huge-string", "2026-06-01T10:00:01.000Z")
	a["attachment"] = strings.Repeat("x", 420_000)
	b := peertest.Memory("huge-numbers", "2026-06-01T10:00:02.000Z")
	nums := make([]json.Number, 20_000)
	for i := range nums {
		nums[i] = json.Number(fmt.Sprintf("12345678901234567890123456789012345678e%d", i%100))
	}
	b["samples"] = nums
	return []map[string]any{a, b}
}

func TestUnwritableItemQuarantinedOnce(t *testing.T) {
	rig := newMotoRig(t, 2, 0)
	w := newWire(t, nil)
	w.client = peers.NewClient(peers.Config{LocalID: "agent-test", MaxBody: 8 << 20})
	w.srv.Load(append(peertest.Backlog(20, 8, 1, false), hugeRows()...))
	w.useStore(rig.direct, ddbTruth{rig.direct})
	rep := w.run(context.Background(), nil)
	if rep.Status != StatusCaughtUp || rep.Invalid != 2 || rep.Applied != 20 || rep.Failed != 0 {
		t.Fatalf("first pass %+v, want 20 applied and 2 quarantined", rep)
	}
	qs, err := rig.direct.ListQuarantine(context.Background(), w.peer.ID)
	if err != nil || len(qs) != 2 {
		t.Fatalf("quarantine %d rows, %v", len(qs), err)
	}
	for _, q := range qs {
		if !strings.Contains(q.Reason, "can never be written") {
			t.Errorf("%s quarantined for %q", q.RowID, q.Reason)
		}
	}
	again := w.run(context.Background(), nil)
	if again.Status != StatusCaughtUp || again.Fetched != 0 || again.Invalid != 0 {
		t.Errorf("second pass %+v: the unwritable rows were pulled again", again)
	}
	w.checkNothingLost(t)
}

func TestTwoPassesAtOnceOnDynamoDB(t *testing.T) {
	rig := newMotoRig(t, 3, 0)
	w := newWire(t, nil)
	w.srv.Load(peertest.Backlog(150, 9, 5, true))
	w.useStore(rig.direct, ddbTruth{rig.direct})
	w.limit = 20
	reps := w.runTwoAtOnce()
	for _, rep := range reps {
		if rep.Status == StatusFailed {
			t.Errorf("a pass failed: %+v", rep)
		}
	}
	w.converge(t)
}

func TestLateOldPassOnDynamoDB(t *testing.T) {
	for _, reset := range []bool{false, true} {
		t.Run(fmt.Sprintf("reset=%v", reset), func(t *testing.T) {
			rig := newMotoRig(t, 4, 0)
			w := newWire(t, nil)
			w.srv.Load(peertest.Backlog(60, 10, 2, true))
			w.useStore(rig.direct, ddbTruth{rig.direct})
			g := &gateStore{Store: w.audit, arrived: make(chan struct{}), release: make(chan struct{})}
			old := make(chan PeerReport)
			go func() { old <- w.run(context.Background(), g) }()
			<-g.arrived
			if rep := w.run(context.Background(), nil); rep.Status != StatusCaughtUp {
				t.Fatalf("newer pass: %+v", rep)
			}
			ctx := context.Background()
			want, _ := rig.direct.Watermark(ctx, w.peer.ID)
			if reset {
				if _, err := rig.direct.ResetWatermark(ctx, w.peer.ID, "", "test: pull everything again"); err != nil {
					t.Fatal(err)
				}
				want = watermark.Mark{Value: "", Epoch: want.Epoch + 1}
				w.audit.noteReset(w.peer.ID, want)
			}
			close(g.release)
			if rep := <-old; rep.Status != StatusMore {
				t.Errorf("old pass: %+v, want stopped with more", rep)
			}
			if got, _ := rig.direct.Watermark(ctx, w.peer.ID); got != want {
				t.Errorf("watermark %+v after the old pass, want %+v", got, want)
			}
			w.converge(t)
		})
	}
}
