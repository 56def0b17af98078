package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// breakerAttempts bounds RecordFailure's read-and-swap loop against another
// pass recording a failure of the same peer at the same moment.
const breakerAttempts = 3

// Breaker reads a peer's breaker (zero when none). Errors are worth retrying.
func (s *Store) Breaker(ctx context.Context, peer string) (replica.BreakerState, error) {
	st, _, err := s.readBreaker(ctx, peer)
	return st, err
}

func (s *Store) readBreaker(ctx context.Context, peer string) (replica.BreakerState, bool, error) {
	op := "read breaker of " + peer
	item, err := s.getState(ctx, op, peerPrefix+peer, breakerSK)
	if err != nil || item == nil {
		return replica.BreakerState{}, false, err
	}
	n, err := intAttr(item, "failures")
	if err != nil {
		return replica.BreakerState{}, false, fmt.Errorf("%s: %w", op, err)
	}
	at, err := timeAttr(item, "retry_at")
	if err != nil {
		return replica.BreakerState{}, false, fmt.Errorf("%s: %w", op, err)
	}
	return replica.BreakerState{Failures: int(n), RetryAt: at, LastError: stringAttr(item, "last_error")}, true, nil
}

// RecordFailure counts one more failed run of a peer and sets its retry
// time to now + backoff(failures), failures counting this one. errText is
// stored (cut to a few KB) for operators: it must hold no secret. It
// returns the new state; errors are worth retrying.
func (s *Store) RecordFailure(ctx context.Context, peer, errText string, backoff func(failures int) time.Duration) (replica.BreakerState, error) {
	var err error
	for range breakerAttempts {
		var st replica.BreakerState
		st, err = s.tryRecordFailure(ctx, peer, errText, backoff)
		if !errors.Is(err, errRace) {
			return st, err
		}
	}
	return replica.BreakerState{}, fmt.Errorf("record failure of %s: %w", peer, err)
}

// errRace: another writer changed the item between our read and our write.
var errRace = errors.New("changed by a concurrent writer, several times")

func (s *Store) tryRecordFailure(ctx context.Context, peer, errText string, backoff func(int) time.Duration) (replica.BreakerState, error) {
	old, found, err := s.readBreaker(ctx, peer)
	if err != nil {
		return replica.BreakerState{}, err
	}
	now := s.now().UTC()
	st := replica.BreakerState{Failures: old.Failures + 1, LastError: clip(errText, maxTextBytes)}
	st.RetryAt = now.Add(backoff(st.Failures))
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.state),
		Item: stateItem(peerPrefix+peer, breakerSK, map[string]types.AttributeValue{
			"failures":   num(int64(st.Failures)),
			"retry_at":   str(st.RetryAt.Format(time.RFC3339Nano)),
			"last_error": str(st.LastError),
			"updated_at": str(now.Format(time.RFC3339Nano)),
		}),
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": StatePartitionKey},
	}
	if found {
		in.ConditionExpression = aws.String("#f = :f")
		in.ExpressionAttributeNames = map[string]string{"#f": "failures"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":f": num(int64(old.Failures))}
	}
	_, err = s.api.PutItem(ctx, in)
	switch {
	case conditionFailed(err):
		return replica.BreakerState{}, errRace
	case err != nil:
		return replica.BreakerState{}, opaque("record failure of "+peer, err)
	}
	return st, nil
}

// RecordSuccess closes a peer's breaker by deleting it; a peer without one
// is left alone. A caller that read a zero replica.BreakerState this run need not
// call it. Errors are worth retrying.
func (s *Store) RecordSuccess(ctx context.Context, peer string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.state),
		Key:       stateKey(peerPrefix+peer, breakerSK),
	})
	if err != nil {
		return opaque("record success of "+peer, err)
	}
	return nil
}
