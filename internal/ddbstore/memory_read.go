package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// Stored is a memory as the table holds it.
type Stored struct {
	replica.Memory        // Fields hold every attribute except the meta ones
	Digest         string // the tie-breaking digest of the row
	WrittenAt      string // when the store wrote it (RFC 3339)
	DeletedAt      string // a tombstone: when a reconcile deleted it (RFC 3339); "" when live
}

func storedFromItem(item map[string]types.AttributeValue) (Stored, error) {
	var st Stored
	st.Fields = make(map[string]any, len(item))
	for k, v := range item {
		if !strings.HasPrefix(k, MetaPrefix) {
			st.Fields[k] = fromAttr(v)
		}
	}
	st.ID = stringAttr(item, MemoryKey)
	st.UpdatedAt = stringAttr(item, "updated_at")
	st.Peer = stringAttr(item, attrPeer)
	st.Digest = stringAttr(item, attrDigest)
	st.WrittenAt = stringAttr(item, attrWrittenAt)
	st.DeletedAt = stringAttr(item, attrDeletedAt)
	if n, ok := item[attrTS].(*types.AttributeValueMemberN); ok {
		t, err := parseTSNumber(n.Value)
		if err != nil {
			return Stored{}, fmt.Errorf("memory %s: %w", clip(st.ID, 128), err)
		}
		st.Instant = t
	}
	return st, nil
}

// stringAttr returns the S attribute name of item, or "".
func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// WouldApply reports whether PutMemory(m) would change the table now, by the
// same rule as PutMemory's condition, reading instead of writing (dry runs).
// An item PutMemory would refuse as unwritable returns an replica.ErrUnwritable error.
func (s *Store) WouldApply(ctx context.Context, m replica.Memory) (bool, error) {
	op := "peek memory " + clip(m.ID, 128)
	item, err := memoryItem(m, s.now())
	var uw *unwritableError
	if errors.As(err, &uw) {
		return false, fmt.Errorf("%s: %w: %s", op, replica.ErrUnwritable, uw.reason)
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.memories),
		Key:                      map[string]types.AttributeValue{MemoryKey: item[MemoryKey]},
		ProjectionExpression:     aws.String("#ts, #nf, #dg"),
		ExpressionAttributeNames: map[string]string{"#ts": attrTS, "#nf": attrNF, "#dg": attrDigest},
		ConsistentRead:           aws.Bool(true),
	})
	if err != nil {
		return false, opaque(op, err)
	}
	oldTS, ok := out.Item[attrTS].(*types.AttributeValueMemberN)
	if !ok {
		return true, nil
	}
	newTS := item[attrTS].(*types.AttributeValueMemberN).Value
	if c := compareDecimal(oldTS.Value, newTS); c != 0 {
		return c < 0, nil
	}
	oldNF, ok := out.Item[attrNF].(*types.AttributeValueMemberN)
	if !ok {
		return true, nil // written before field counts: fewest fields (putCondition)
	}
	if c := compareDecimal(oldNF.Value, item[attrNF].(*types.AttributeValueMemberN).Value); c != 0 {
		return c < 0, nil
	}
	oldDg, _ := out.Item[attrDigest].(*types.AttributeValueMemberS)
	return oldDg == nil || oldDg.Value < item[attrDigest].(*types.AttributeValueMemberS).Value, nil
}

// compareDecimal compares two integers written in decimal.
func compareDecimal(a, b string) int {
	x, okA := new(big.Int).SetString(a, 10)
	y, okB := new(big.Int).SetString(b, 10)
	if !okA || !okB {
		return strings.Compare(a, b)
	}
	return x.Cmp(y)
}
