package ddbstore

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// ListQuarantine returns every quarantined row of a peer, ordered by Key.
// Errors are worth retrying.
func (s *Store) ListQuarantine(ctx context.Context, peer string) ([]replica.Quarantined, error) {
	var rows []replica.Quarantined
	err := s.queryState(ctx, "list quarantine of "+peer, quarantinePrefix+peer, rowPrefix,
		func(item map[string]types.AttributeValue) error {
			q, err := quarantinedFromItem(item)
			rows = append(rows, q)
			return err
		})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func quarantinedFromItem(item map[string]types.AttributeValue) (replica.Quarantined, error) {
	n, err := intAttr(item, "raw_bytes")
	if err != nil {
		return replica.Quarantined{}, err
	}
	first, err := timeAttr(item, "first_seen")
	if err != nil {
		return replica.Quarantined{}, err
	}
	last, err := timeAttr(item, "last_seen")
	if err != nil {
		return replica.Quarantined{}, err
	}
	return replica.Quarantined{
		Peer:      stringAttr(item, "peer"),
		Key:       strings.TrimPrefix(stringAttr(item, StateSortKey), rowPrefix),
		RowID:     stringAttr(item, "row_id"),
		UpdatedAt: stringAttr(item, "updated_at"),
		Reason:    stringAttr(item, "reason"),
		Raw:       []byte(stringAttr(item, "raw")),
		Truncated: boolAttr(item, "truncated"),
		RawSHA256: stringAttr(item, "raw_sha256"),
		RawBytes:  int(n),
		FirstSeen: first,
		LastSeen:  last,
	}, nil
}

// DeleteQuarantine removes one quarantined row (after a replay wrote it, or
// an operator dismissed it). Deleting a row that is not there is not an
// error. Errors are worth retrying.
func (s *Store) DeleteQuarantine(ctx context.Context, peer, key string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.state),
		Key:       stateKey(quarantinePrefix+peer, rowPrefix+key),
	})
	if err != nil {
		return opaque("delete quarantined row "+key+" of "+peer, err)
	}
	return nil
}
