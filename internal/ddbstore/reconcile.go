package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// Attributes of a tombstone (docs/protocol.md §10). A tombstone keeps the
// memory's id and no field of the row; its _cu_ts is just after the deleted
// version's, so that version and older ones are refused by PutMemory's
// condition while any newer one replaces it (a full PutItem, which drops the
// marker). Readers skip items with attrDeletedAt.
const (
	attrDeletedAt = MetaPrefix + "deleted_at" // S: when a reconcile deleted it (RFC 3339)
	attrExpires   = MetaPrefix + "expires"    // N: epoch seconds; the table's TTL attribute
	attrFieldsN   = MetaPrefix + "nf"         // N: field count, when the store writes it
)

// ScanVersions reads every item of the memories table once, with a parallel
// Scan of segments segments projecting only what decides newer-wins, and
// calls fn for each item (from several goroutines at once).
func (s *Store) ScanVersions(ctx context.Context, segments int, fn func(replica.Version)) error {
	segments = max(1, min(segments, 1000000))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, segments)
	for seg := range segments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[seg] = s.scanSegment(ctx, seg, segments, fn); errs[seg] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (s *Store) scanSegment(ctx context.Context, seg, segments int, fn func(replica.Version)) error {
	in := &dynamodb.ScanInput{
		TableName:                aws.String(s.memories),
		ConsistentRead:           aws.Bool(true),
		Segment:                  aws.Int32(int32(seg)),
		TotalSegments:            aws.Int32(int32(segments)),
		ProjectionExpression:     aws.String("#id, #ts, #dg, #nf, #del"),
		ExpressionAttributeNames: map[string]string{"#id": MemoryKey, "#ts": attrTS, "#dg": attrDigest, "#nf": attrFieldsN, "#del": attrDeletedAt},
	}
	for {
		out, err := s.api.Scan(ctx, in)
		if err != nil {
			return opaque(fmt.Sprintf("scan memories (segment %d of %d)", seg, segments), err)
		}
		for _, item := range out.Items {
			fn(versionOfItem(item))
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// versionOfItem reads the version an item holds; an item without a usable
// _cu_ts was not written by this store and is Foreign.
func versionOfItem(item map[string]types.AttributeValue) replica.Version {
	v := replica.Version{ID: stringAttr(item, MemoryKey), Digest: stringAttr(item, attrDigest)}
	_, v.Deleted = item[attrDeletedAt]
	ts, ok := item[attrTS].(*types.AttributeValueMemberN)
	if !ok {
		v.Foreign = true
		return v
	}
	n, err := strconv.ParseInt(ts.Value, 10, 64)
	if err != nil {
		v.Foreign = true // beyond int64 ns (after 2262): compare in DynamoDB only
		return v
	}
	v.TS = n
	if nf, ok := item[attrFieldsN].(*types.AttributeValueMemberN); ok {
		v.NF, _ = strconv.Atoi(nf.Value)
	}
	return v
}

// VersionOf is the version PutMemory(m) would write; it returns an
// replica.ErrUnwritable error for an item PutMemory would refuse.
func (s *Store) VersionOf(m replica.Memory) (replica.Version, error) {
	item, err := memoryItem(m, s.now())
	var uw *unwritableError
	if errors.As(err, &uw) {
		return replica.Version{}, fmt.Errorf("version of %s: %w: %s", clip(m.ID, 128), replica.ErrUnwritable, uw.reason)
	}
	if err != nil {
		return replica.Version{}, fmt.Errorf("version of %s: %w", clip(m.ID, 128), err)
	}
	return versionOfItem(item), nil
}

// tombstoneCondition: the item still holds the version the reconcile read
// (its instant, and a digest starting with the digits it kept) and is live.
const tombstoneCondition = "#ts = :ts AND begins_with(#dg, :dg) AND attribute_not_exists(#del)"

// Tombstone replaces the item holding v with a tombstone at v's instant + 1 ns,
// deleted at at and expiring (TTL) at expires, only if the item still holds v:
// v.Digest may be a prefix of the stored digest. A changed or missing item is
// replica.ErrStale.
func (s *Store) Tombstone(ctx context.Context, v replica.Version, at, expires time.Time) error {
	op := "tombstone " + clip(v.ID, 128)
	if v.Digest == "" || v.Foreign || v.Deleted {
		return fmt.Errorf("%s: not a live version of this store", op)
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.memories),
		Item: map[string]types.AttributeValue{
			MemoryKey:     &types.AttributeValueMemberS{Value: v.ID},
			attrTS:        &types.AttributeValueMemberN{Value: strconv.FormatInt(v.TS+1, 10)},
			attrDeletedAt: &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339)},
			attrExpires:   &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)},
			attrWrittenAt: &types.AttributeValueMemberS{Value: s.now().UTC().Format(time.RFC3339Nano)},
		},
		ConditionExpression:      aws.String(tombstoneCondition),
		ExpressionAttributeNames: map[string]string{"#ts": attrTS, "#dg": attrDigest, "#del": attrDeletedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ts": &types.AttributeValueMemberN{Value: strconv.FormatInt(v.TS, 10)},
			":dg": &types.AttributeValueMemberS{Value: v.Digest},
		},
	})
	if conditionFailed(err) {
		return fmt.Errorf("%s: %w", op, replica.ErrStale)
	}
	if err != nil {
		return opaque(op, err)
	}
	return nil
}

// Deleted reports whether a stored item is a tombstone.
func (st Stored) Deleted() bool { return st.DeletedAt != "" }

// enableTTL turns on expiry by attrExpires on the memories table (tombstones
// carry it; memories do not). An endpoint without TTL (dynalite) is let be.
func (s *Store) enableTTL(ctx context.Context) error {
	out, err := s.api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.memories)})
	if unsupported(err) {
		return nil
	}
	if err != nil {
		return opaque("describe TTL of "+s.memories, err)
	}
	if d := out.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attrExpires &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = s.api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(s.memories),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attrExpires), Enabled: aws.Bool(true)},
	})
	if err != nil && !unsupported(err) {
		return opaque("enable TTL on "+s.memories, err)
	}
	return nil
}

// unsupported reports whether the endpoint does not know the operation.
func unsupported(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "UnknownOperationException"
}
