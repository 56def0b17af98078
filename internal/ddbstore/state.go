package ddbstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Layout of the state table: the partition and sort key values of each kind
// of item. Peer ids are used verbatim after the prefix.
const (
	peerPrefix       = "peer#"       // pk of a peer's watermark, history and breaker; sk of a registry entry
	quarantinePrefix = "quarantine#" // pk of a peer's quarantined rows
	rowPrefix        = "row#"        // sk of a quarantined row
	historyPrefix    = "history#"    // sk of a watermark reset
	registryPK       = "registry"    // pk of the peer registry
	watermarkSK      = "watermark"
	breakerSK        = "breaker"
)

// sortableTime formats instants so that byte order is time order (fixed
// width, UTC), for sort keys.
const sortableTime = "2006-01-02T15:04:05.000000000Z07:00"

func stateKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		StatePartitionKey: &types.AttributeValueMemberS{Value: pk},
		StateSortKey:      &types.AttributeValueMemberS{Value: sk},
	}
}

// stateItem is the key of (pk, sk) plus attrs.
func stateItem(pk, sk string, attrs map[string]types.AttributeValue) map[string]types.AttributeValue {
	item := stateKey(pk, sk)
	for k, v := range attrs {
		item[k] = v
	}
	return item
}

// getState reads one state item with a consistent read; nil when absent.
func (s *Store) getState(ctx context.Context, op, pk, sk string) (map[string]types.AttributeValue, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.state),
		Key:            stateKey(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, opaque(op, err)
	}
	return out.Item, nil
}

// queryState calls fn for every item of partition pk whose sort key starts
// with skPrefix, in sort key order, following pages.
func (s *Store) queryState(ctx context.Context, op, pk, skPrefix string, fn func(map[string]types.AttributeValue) error) error {
	in := s.prefixQuery(pk, skPrefix)
	return paginate(func(start map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
		in.ExclusiveStartKey = start
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, opaque(op, err)
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
		}
		return out.LastEvaluatedKey, nil
	})
}

// prefixQuery selects, with a consistent read, the items of partition pk
// whose sort key starts with skPrefix.
func (s *Store) prefixQuery(pk, skPrefix string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(s.state),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :sk)"),
		ExpressionAttributeNames:  map[string]string{"#pk": StatePartitionKey, "#sk": StateSortKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":sk": str(skPrefix)},
		ConsistentRead:            aws.Bool(true),
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// intAttr reads the N attribute name of item as an integer; 0 when absent.
func intAttr(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %q is not an integer", name, v.Value)
	}
	return n, nil
}

// timeAttr reads the S attribute name of item as an RFC 3339 time; zero when
// absent.
func timeAttr(item map[string]types.AttributeValue, name string) (time.Time, error) {
	v := stringAttr(item, name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("attribute %s: %q is not RFC 3339", name, v)
	}
	return t, nil
}

func boolAttr(item map[string]types.AttributeValue, name string) bool {
	v, ok := item[name].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func (s *Store) stamp() string { return s.now().UTC().Format(time.RFC3339Nano) }
