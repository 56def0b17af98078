package ddbstore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/watermark"
)

// HistoryEntry records one reset of a peer's watermark.
type HistoryEntry = replica.HistoryEntry

// historyItem is keyed by the reset's time in a sortable form and the new
// epoch, so that a peer's history reads back oldest first and two resets
// never share a key.
func (s *Store) historyItem(peer string, prev, next watermark.Mark, reason string) map[string]types.AttributeValue {
	at := s.now().UTC().Format(sortableTime)
	sk := fmt.Sprintf("%s%s#%d", historyPrefix, at, next.Epoch)
	return stateItem(peerPrefix+peer, sk, map[string]types.AttributeValue{
		"at":         str(at),
		"prev_value": str(prev.Value),
		"prev_epoch": num(prev.Epoch),
		"value":      str(next.Value),
		"epoch":      num(next.Epoch),
		"reason":     str(clip(reason, maxTextBytes)),
	})
}

// WatermarkHistory lists a peer's watermark resets, oldest first.
func (s *Store) WatermarkHistory(ctx context.Context, peer string) ([]HistoryEntry, error) {
	var hist []HistoryEntry
	err := s.queryState(ctx, "read watermark history of "+peer, peerPrefix+peer, historyPrefix,
		func(item map[string]types.AttributeValue) error {
			e, err := historyFromItem(item)
			hist = append(hist, e)
			return err
		})
	if err != nil {
		return nil, err
	}
	return hist, nil
}

func historyFromItem(item map[string]types.AttributeValue) (HistoryEntry, error) {
	at, err := timeAttr(item, "at")
	if err != nil {
		return HistoryEntry{}, err
	}
	pe, err := intAttr(item, "prev_epoch")
	if err != nil {
		return HistoryEntry{}, err
	}
	ne, err := intAttr(item, "epoch")
	if err != nil {
		return HistoryEntry{}, err
	}
	return HistoryEntry{
		At:     at,
		Prev:   watermark.Mark{Value: stringAttr(item, "prev_value"), Epoch: pe},
		New:    watermark.Mark{Value: stringAttr(item, "value"), Epoch: ne},
		Reason: stringAttr(item, "reason"),
	}, nil
}
