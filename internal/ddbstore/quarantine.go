package ddbstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/utf8cut"
)

// Size caps that keep a quarantine item under DynamoDB's 400 KB.
const (
	maxRawBytes   = 350 * 1024
	maxTextBytes  = 4096 // reasons and errors
	maxRowIDBytes = 1024
	maxStampBytes = 256
)

// Quarantine records an invalid row (idempotent per Key: recording it again
// updates only the reason and LastSeen, keeping FirstSeen and the row). An
// empty Key becomes the first 32 hex digits of the SHA-256 of Raw. Raw is
// stored as text (invalid UTF-8 replaced by U+FFFD; RawSHA256 is of the
// original bytes) and cut at 350 KB; RowID, UpdatedAt and Reason are cut to
// a few KB. Errors are worth retrying.
func (s *Store) Quarantine(ctx context.Context, q replica.Quarantined) error {
	sum := sha256.Sum256(q.Raw)
	rawHex := hex.EncodeToString(sum[:])
	if q.Key == "" {
		q.Key = rawHex[:32]
	}
	op := fmt.Sprintf("quarantine row %s of %s", clip(q.RowID, 128), q.Peer)
	switch again, err := s.requarantine(ctx, q); {
	case err != nil:
		return opaque(op, err)
	case again:
		return nil
	}
	raw, truncated := utf8cut.Prefix(strings.ToValidUTF8(string(q.Raw), "\uFFFD"), maxRawBytes)
	now := str(s.stamp())
	expr, names, values := setExpression(map[string]types.AttributeValue{
		"peer":       str(q.Peer),
		"row_id":     str(clip(q.RowID, maxRowIDBytes)),
		"updated_at": str(clip(q.UpdatedAt, maxStampBytes)),
		"reason":     str(clip(q.Reason, maxTextBytes)),
		"raw":        str(raw),
		"truncated":  &types.AttributeValueMemberBOOL{Value: truncated},
		"raw_sha256": str(rawHex),
		"raw_bytes":  num(int64(len(q.Raw))),
		"last_seen":  now,
	})
	names["#first"], values[":first"] = "first_seen", now
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.state),
		Key:                       stateKey(quarantinePrefix+q.Peer, rowPrefix+q.Key),
		UpdateExpression:          aws.String(expr + ", #first = if_not_exists(#first, :first)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err != nil {
		return opaque(op, err)
	}
	return nil
}

// requarantine records a row seen again, changing only its reason and
// last_seen, and reports false when the key is not in quarantine yet. The
// row itself is not written again: rewriting up to 350 KB cost as many write
// units on every pass that pulled the row again, and DynamoDB emulators
// (moto) count the old and the new value together and refuse such an update
// of a large item, which left the row not done and its peer blocked.
func (s *Store) requarantine(ctx context.Context, q replica.Quarantined) (bool, error) {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.state),
		Key:                      stateKey(quarantinePrefix+q.Peer, rowPrefix+q.Key),
		UpdateExpression:         aws.String("SET #reason = :reason, #last = :last"),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#reason": "reason", "#last": "last_seen", "#pk": StatePartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":reason": str(clip(q.Reason, maxTextBytes)), ":last": str(s.stamp()),
		},
	})
	switch {
	case err == nil:
		return true, nil
	case conditionFailed(err):
		return false, nil
	}
	return false, err
}

// setExpression builds "SET #a0 = :a0, ..." for attrs, every name behind a
// placeholder so that none collides with DynamoDB's reserved words.
func setExpression(attrs map[string]types.AttributeValue) (string, map[string]string, map[string]types.AttributeValue) {
	names := make(map[string]string, len(attrs)+1)
	values := make(map[string]types.AttributeValue, len(attrs)+1)
	parts := make([]string, 0, len(attrs))
	i := 0
	for k, v := range attrs {
		p := "a" + strconv.Itoa(i)
		names["#"+p], values[":"+p] = k, v
		parts = append(parts, "#"+p+" = :"+p)
		i++
	}
	return "SET " + strings.Join(parts, ", "), names, values
}
