package operator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/event"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/stamp"
)

// operate serves the operator actions other than run and backfill.
func (h *Handler) operate(ctx context.Context, log *slog.Logger, ev event.Payload) (any, error) {
	log = log.With("action", ev.Action)
	var res any
	var err error
	switch ev.Action {
	case event.ResetWatermark:
		res, err = h.resetWatermarks(ctx, ev)
	case event.ListQuarantine:
		res, err = h.listQuarantine(ctx, ev)
	case event.ReplayQuarantine:
		res, err = h.replayQuarantine(ctx, ev)
	case event.RegistryList:
		res, err = h.registryList(ctx)
	case event.RegistryPut:
		res, err = h.registryPut(ctx, ev.Peer, ev.Disabled)
	case event.RegistryDelete:
		res, err = h.registryDelete(ctx, ev.Peers)
	case event.Reconcile:
		var rep *catchup.ReconcileReport
		if rep, err = h.reconcile(ctx, log, ev); rep != nil {
			return rep, err
		}
	default:
		err = fmt.Errorf("event: action %q is not one of run, backfill, reset_watermark, list_quarantine, replay_quarantine, registry_list, registry_put, registry_delete, reconcile", ev.Action)
	}
	if err != nil {
		log.Error("operator action failed", "error", err)
		return nil, err
	}
	log.Info("operator action done", "peers", ev.Peers)
	return res, nil
}

// namedIDs returns the peer ids an operator action on stored state names
// (reset, list, replay); it needs at least one. Each must be in PEERS or in
// the registry, disabled entries included: a peer can be reset before it is
// enabled, and its quarantine read after it was disabled.
func (h *Handler) namedIDs(ctx context.Context, ev event.Payload) ([]string, error) {
	if len(ev.Peers) == 0 {
		return nil, fmt.Errorf("event: %s needs \"peers\": [\"peer-id\", ...]", ev.Action)
	}
	known := map[string]bool{}
	for _, p := range h.Peers {
		known[p.ID] = true
	}
	var reg []replica.RegisteredPeer
	for _, id := range ev.Peers {
		if known[id] {
			continue
		}
		if reg == nil {
			var err error
			if reg, err = h.Store.RegistryPeers(ctx); err != nil {
				return nil, err
			}
			for _, rp := range reg {
				known[rp.ID] = true
			}
		}
		if !known[id] {
			return nil, fmt.Errorf("event: peers: %q is neither in PEERS nor in the registry", id)
		}
	}
	return unique(ev.Peers), nil
}

// backfillRange validates a backfill's bounds: each empty or a timestamp.
func backfillRange(ev event.Payload) (*catchup.Range, error) {
	for name, v := range map[string]string{"from": ev.From, "to": ev.To} {
		if v != "" && !stamp.Valid(v) {
			return nil, fmt.Errorf("event: %s: %q is not an RFC 3339 timestamp", name, v)
		}
	}
	if ev.From != "" && ev.To != "" && ev.To <= ev.From {
		return nil, fmt.Errorf("event: to %q must sort after from %q", ev.To, ev.From)
	}
	if len(ev.Peers) == 0 {
		return nil, errors.New("event: backfill needs \"peers\": [\"peer-id\", ...]")
	}
	return &catchup.Range{From: ev.From, To: ev.To}, nil
}

// ResetResult is what a reset reports per peer.
type ResetResult struct {
	Peer     string        `json:"peer"`
	Previous string        `json:"previous"`
	New      string        `json:"new"`
	History  []HistoryView `json:"history"` // every reset of this peer, oldest first, this one last
}

// HistoryView is one past reset as an operator reads it.
type HistoryView struct {
	At            time.Time `json:"at"`
	Previous      string    `json:"previous"`
	PreviousEpoch int64     `json:"previous_epoch"`
	New           string    `json:"new"`
	Epoch         int64     `json:"epoch"`
	Reason        string    `json:"reason"`
}

func historyViews(hist []replica.HistoryEntry) []HistoryView {
	out := make([]HistoryView, len(hist))
	for i, h := range hist {
		out[i] = HistoryView{At: h.At, Previous: h.Prev.Value, PreviousEpoch: h.Prev.Epoch,
			New: h.New.Value, Epoch: h.New.Epoch, Reason: h.Reason}
	}
	return out
}

// resetWatermarks sets each named peer's watermark, keeping the old value in
// the history. An empty watermark pulls the peer again from the beginning.
func (h *Handler) resetWatermarks(ctx context.Context, ev event.Payload) (any, error) {
	if ev.Watermark != "" && !stamp.Valid(ev.Watermark) {
		return nil, fmt.Errorf("event: watermark: %q is not an RFC 3339 timestamp", ev.Watermark)
	}
	ids, err := h.namedIDs(ctx, ev)
	if err != nil {
		return nil, err
	}
	reason := ev.Reason
	if reason == "" {
		reason = "operator reset"
	}
	var out []ResetResult
	for _, id := range ids {
		prev, err := h.Store.ResetWatermark(ctx, id, ev.Watermark, reason)
		if err != nil {
			return out, fmt.Errorf("reset %s: %w", id, err)
		}
		hist, err := h.Store.WatermarkHistory(ctx, id)
		if err != nil {
			return out, fmt.Errorf("history %s: %w", id, err)
		}
		out = append(out, ResetResult{Peer: id, Previous: prev.Value, New: ev.Watermark, History: historyViews(hist)})
	}
	return map[string]any{"reset": out}, nil
}

// QuarantineView is a quarantined row as listed: the raw row is cut to a
// preview so a listing fits in a Lambda response.
type QuarantineView struct {
	Key        string    `json:"key"`
	RowID      string    `json:"row_id"`
	UpdatedAt  string    `json:"updated_at"`
	Reason     string    `json:"reason"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	RawBytes   int       `json:"raw_bytes"`
	RawPreview string    `json:"raw_preview"`
}

const previewBytes = 2048

// listQuarantine lists each named peer's quarantined rows (at most limit, default 100).
func (h *Handler) listQuarantine(ctx context.Context, ev event.Payload) (any, error) {
	ids, err := h.namedIDs(ctx, ev)
	if err != nil {
		return nil, err
	}
	limit := ev.Limit
	if limit <= 0 {
		limit = 100
	}
	out := map[string]any{}
	for _, id := range ids {
		qs, err := h.Store.ListQuarantine(ctx, id)
		if err != nil {
			return nil, err
		}
		views := make([]QuarantineView, 0, min(len(qs), limit))
		for _, q := range qs[:min(len(qs), limit)] {
			views = append(views, QuarantineView{Key: q.Key, RowID: q.RowID, UpdatedAt: q.UpdatedAt,
				Reason: q.Reason, FirstSeen: q.FirstSeen, LastSeen: q.LastSeen, RawBytes: q.RawBytes,
				RawPreview: string(q.Raw[:min(len(q.Raw), previewBytes)])})
		}
		out[id] = map[string]any{"count": len(qs), "rows": views}
	}
	return map[string]any{"quarantine": out}, nil
}

// replayQuarantine replays each named peer's quarantined rows.
func (h *Handler) replayQuarantine(ctx context.Context, ev event.Payload) (any, error) {
	ids, err := h.namedIDs(ctx, ev)
	if err != nil {
		return nil, err
	}
	var out []catchup.ReplayReport
	for _, id := range ids {
		out = append(out, h.Runner.Replay(ctx, h.Store, id, ev.DryRun))
	}
	return map[string]any{"replay": out, "dry_run": ev.DryRun}, nil
}

// registryList lists the peers of PEERS and of the registry.
func (h *Handler) registryList(ctx context.Context) (any, error) {
	reg, err := h.Store.RegistryPeers(ctx)
	if err != nil {
		return nil, err
	}
	views := make([]RegisteredView, len(reg))
	for i, rp := range reg {
		views[i] = RegisteredView(rp)
	}
	env := h.Peers
	if env == nil {
		env = []peers.Peer{}
	}
	return map[string]any{"env_peers": env, "registry": views, "registry_enabled": h.PeerRegistry}, nil
}

// registryDelete removes the named peers from the registry (their watermarks
// and quarantine stay, so re-adding a peer resumes where it was).
func (h *Handler) registryDelete(ctx context.Context, ids []string) (any, error) {
	if len(ids) == 0 {
		return nil, errors.New("event: registry_delete needs \"peers\": [\"peer-id\", ...]")
	}
	for _, id := range ids {
		if err := h.Store.DeleteRegistryPeer(ctx, id); err != nil {
			return nil, err
		}
	}
	return map[string]any{"deleted": ids}, nil
}
