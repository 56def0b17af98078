package ddbstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// This file holds reads for inspection: tests, the demo and operators use
// them to look at what the tables hold. A pass never calls them.

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
	err := paginate(func(start map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
		in.ExclusiveStartKey = start
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
		return out.LastEvaluatedKey, nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// QuarantineCount returns how many rows of a peer are quarantined without
// transferring them (DynamoDB still reads, and bills, every item). Errors
// are worth retrying.
func (s *Store) QuarantineCount(ctx context.Context, peer string) (int, error) {
	in := s.prefixQuery(quarantinePrefix+peer, rowPrefix)
	in.Select = types.SelectCount
	total := 0
	err := paginate(func(start map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
		in.ExclusiveStartKey = start
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, opaque("count quarantine of "+peer, err)
		}
		total += int(out.Count)
		return out.LastEvaluatedKey, nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// paginate calls page with the start key of each page, nil for the first,
// until page returns an empty LastEvaluatedKey or an error.
func paginate(page func(start map[string]types.AttributeValue) (last map[string]types.AttributeValue, err error)) error {
	var start map[string]types.AttributeValue
	for {
		last, err := page(start)
		if err != nil {
			return err
		}
		if len(last) == 0 {
			return nil
		}
		start = last
	}
}
