package ddbstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Stored is a memory as the table holds it.
type Stored struct {
	Memory           // Fields hold every attribute except the meta ones
	Digest    string // the tie-breaking digest of the row
	WrittenAt string // when the store wrote it (RFC 3339)
}

// GetMemory reads the stored version of a memory with a consistent read;
// found is false when the table has none.
func (s *Store) GetMemory(ctx context.Context, id string) (st Stored, found bool, err error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.memories),
		Key:            map[string]types.AttributeValue{MemoryKey: &types.AttributeValueMemberS{Value: id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Stored{}, false, opaque("get memory "+clip(id, 128), err)
	}
	if out.Item == nil {
		return Stored{}, false, nil
	}
	st, err = storedFromItem(out.Item)
	return st, true, err
}

// ScanMemories reads every item of the memories table, page by page. It is
// for tests, demos and audits; a pass never needs it.
func (s *Store) ScanMemories(ctx context.Context) ([]Stored, error) {
	var all []Stored
	in := &dynamodb.ScanInput{TableName: aws.String(s.memories), ConsistentRead: aws.Bool(true)}
	for {
		out, err := s.api.Scan(ctx, in)
		if err != nil {
			return nil, opaque("scan memories", err)
		}
		for _, item := range out.Items {
			st, err := storedFromItem(item)
			if err != nil {
				return nil, err
			}
			all = append(all, st)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return all, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
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
