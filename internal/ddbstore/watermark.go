package ddbstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/watermark"
)

// advanceBody is the part of the advance condition that applies once the
// item exists: same epoch, and strictly forward. DynamoDB compares strings
// by their UTF-8 bytes, the order the peers' cursors use.
const advanceBody = "#epoch = :epoch AND (attribute_not_exists(#v) OR #v < :to)"

// Watermark reads a peer's stored watermark (zero watermark.Mark when none).
func (s *Store) Watermark(ctx context.Context, peer string) (watermark.Mark, error) {
	m, _, err := s.readMark(ctx, peer)
	return m, err
}

func (s *Store) readMark(ctx context.Context, peer string) (m watermark.Mark, found bool, err error) {
	op := "read watermark of " + peer
	item, err := s.getState(ctx, op, peerPrefix+peer, watermarkSK)
	if err != nil || item == nil {
		return watermark.Mark{}, false, err
	}
	epoch, err := intAttr(item, "epoch")
	if err != nil {
		return watermark.Mark{}, false, fmt.Errorf("%s: %w", op, err)
	}
	return watermark.Mark{Value: stringAttr(item, "value"), Epoch: epoch}, true, nil
}

// AdvanceWatermark stores to when it is byte-wise greater than the stored
// value and the epoch still equals from.Epoch; otherwise replica.ErrConflict. A
// first advance (no item yet) is allowed in epoch 0 only. Other errors are
// worth retrying.
func (s *Store) AdvanceWatermark(ctx context.Context, peer string, from watermark.Mark, to string) error {
	op := "advance watermark of " + peer
	if to == "" {
		return fmt.Errorf("%s: empty value", op)
	}
	cond := advanceBody
	names := map[string]string{"#epoch": "epoch", "#v": "value"}
	if from.Epoch == 0 {
		cond = "attribute_not_exists(#pk) OR (" + advanceBody + ")"
		names["#pk"] = StatePartitionKey
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.state),
		Item:                      s.markItem(peer, watermark.Mark{Value: to, Epoch: from.Epoch}),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: map[string]types.AttributeValue{":epoch": num(from.Epoch), ":to": str(to)},
	})
	switch {
	case err == nil:
		return nil
	case conditionFailed(err):
		return fmt.Errorf("%s: %w", op, replica.ErrConflict)
	}
	return opaque(op, err)
}

func (s *Store) markItem(peer string, m watermark.Mark) map[string]types.AttributeValue {
	return stateItem(peerPrefix+peer, watermarkSK, map[string]types.AttributeValue{
		"value": str(m.Value), "epoch": num(m.Epoch), "updated_at": str(s.stamp()),
	})
}

// resetAttempts bounds ResetWatermark's read-and-swap loop: a pass may
// advance the watermark between the read and the swap, and an operator's
// reset should still go through.
const resetAttempts = 3

// ResetWatermark sets a peer's watermark to to (which may be "", to pull
// everything again) in a new epoch, so that passes started before the reset
// cannot advance it any more, and records the previous mark in the history,
// in one transaction. It returns the previous mark, or replica.ErrConflict when the
// watermark kept changing underneath, or another error worth retrying.
func (s *Store) ResetWatermark(ctx context.Context, peer, to, reason string) (prev watermark.Mark, err error) {
	for range resetAttempts {
		prev, err = s.tryReset(ctx, peer, to, reason)
		if !errors.Is(err, replica.ErrConflict) {
			return prev, err
		}
	}
	return prev, err
}

func (s *Store) tryReset(ctx context.Context, peer, to, reason string) (watermark.Mark, error) {
	op := "reset watermark of " + peer
	prev, found, err := s.readMark(ctx, peer)
	if err != nil {
		return watermark.Mark{}, err
	}
	next := watermark.Mark{Value: to, Epoch: prev.Epoch + 1}
	// Swap only what was read: the reset records the previous mark exactly.
	cond, names := "attribute_not_exists(#pk)", map[string]string{"#pk": StatePartitionKey}
	var values map[string]types.AttributeValue
	if found {
		cond, names = "#epoch = :pe AND #v = :pv", map[string]string{"#epoch": "epoch", "#v": "value"}
		values = map[string]types.AttributeValue{":pe": num(prev.Epoch), ":pv": str(prev.Value)}
	}
	_, err = s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName: aws.String(s.state), Item: s.markItem(peer, next),
				ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
			}},
			{Put: &types.Put{
				TableName: aws.String(s.state), Item: s.historyItem(peer, prev, next, reason),
				ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#pk": StatePartitionKey},
			}},
		},
	})
	switch {
	case err == nil:
		return prev, nil
	case conditionFailed(err):
		return prev, fmt.Errorf("%s: %w", op, replica.ErrConflict)
	}
	return prev, opaque(op, err)
}
