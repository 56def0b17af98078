package ddbstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// MetaPrefix starts the names of the attributes the store adds to a memory
// item; a row with a top-level field of that prefix is unwritable.
const MetaPrefix = "_cu_"

// Meta attributes of a memory item.
const (
	attrTS        = MetaPrefix + "ts"         // N: the instant of updated_at, integer ns since the epoch
	attrNF        = MetaPrefix + "nf"         // N: the row's top-level field count, breaks ties first
	attrDigest    = MetaPrefix + "digest"     // S: hex SHA-256 of the row, breaks remaining ties
	attrPeer      = MetaPrefix + "peer"       // S: the peer the version came from
	attrWrittenAt = MetaPrefix + "written_at" // S: when this store wrote it
)

// maxKeyBytes is DynamoDB's limit on a partition key value.
const maxKeyBytes = 2048

// putCondition lets a version in when the table has none of this id, or one
// that is smaller in the total order (instant, field count, digest): an older
// instant, or the same instant with fewer fields, or the same instant and
// field count with a smaller digest (docs/protocol.md §6). An item without
// _cu_ts was not written by this store and counts as oldest; one without
// _cu_nf was written before field counts were kept and counts, at its
// instant, as having the fewest fields, so any version of that instant
// written now replaces it once and the total order holds from then on.
const putCondition = "attribute_not_exists(#id) OR attribute_not_exists(#ts) OR #ts < :ts OR " +
	"(#ts = :ts AND (attribute_not_exists(#nf) OR #nf < :nf OR (#nf = :nf AND #dg < :dg)))"

// PutMemory writes m when the table has no item with m.ID, or an older one
// (by instant; equal instants are won by more fields, then by the larger
// content digest). It
// returns replica.ErrStale when refused by that condition, replica.ErrUnwritable for an item
// DynamoDB can never take (over 400 KB, a number out of range, a field named
// with MetaPrefix...), or another error (retryable, after SDK retries).
// Fields may hold "id" and "updated_at"; they must then equal ID and UpdatedAt.
func (s *Store) PutMemory(ctx context.Context, m replica.Memory) error {
	in, err := s.PutMemoryInput(m)
	if err == nil {
		if _, err = s.api.PutItem(ctx, in); err == nil {
			return nil
		}
	}
	op := "put memory " + clip(m.ID, 128) // named only on failure: the text costs a row's CPU
	if in == nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if conditionFailed(err) {
		return fmt.Errorf("%s: %w", op, replica.ErrStale)
	}
	if reason, ok := itemRejected(err); ok {
		return fmt.Errorf("%s: %w: %s", op, replica.ErrUnwritable, reason)
	}
	return opaque(op, err)
}

// PutMemoryInput is the request PutMemory sends for m: the item and the
// newer-wins condition. It is exported for the benchmark's ceiling, which
// builds every request before its clock starts and sends them with a plain
// client, so that the ceiling sends the very condition the pass sends. An
// item DynamoDB can never take is an error wrapping replica.ErrUnwritable.
func (s *Store) PutMemoryInput(m replica.Memory) (*dynamodb.PutItemInput, error) {
	item, err := memoryItem(m, s.now())
	var uw *unwritableError
	if errors.As(err, &uw) {
		return nil, fmt.Errorf("%w: %s", replica.ErrUnwritable, uw.reason)
	}
	if err != nil {
		return nil, err
	}
	return &dynamodb.PutItemInput{
		TableName:           aws.String(s.memories),
		Item:                item,
		ConditionExpression: aws.String(putCondition),
		ExpressionAttributeNames: map[string]string{
			"#id": MemoryKey, "#ts": attrTS, "#nf": attrNF, "#dg": attrDigest,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ts": item[attrTS], ":nf": item[attrNF], ":dg": item[attrDigest],
		},
	}, nil
}

// memoryItem builds the item for m: its fields, id and updated_at as given,
// and the meta attributes. Refusals DynamoDB would make are *unwritableError.
func memoryItem(m replica.Memory, now time.Time) (map[string]types.AttributeValue, error) {
	if err := checkIdentity(m); err != nil {
		return nil, err
	}
	item := make(map[string]types.AttributeValue, len(m.Fields)+6)
	// The top level's strings and numbers, most of its values, and the meta
	// attributes share two arrays: two allocations instead of one a value.
	strs := make([]types.AttributeValueMemberS, 0, len(m.Fields)+5)
	nums := make([]types.AttributeValueMemberN, 0, len(m.Fields)+2)
	str := func(v string) types.AttributeValue {
		strs = append(strs, types.AttributeValueMemberS{Value: v})
		return &strs[len(strs)-1]
	}
	// The row's members, for the digest, and the size of the item so far:
	// gathered as the item is built, not by walking it twice more.
	var small [32]member
	ms := small[:0]
	size := 0
	for k, v := range m.Fields {
		if strings.HasPrefix(k, MetaPrefix) {
			return nil, &unwritableError{fmt.Sprintf("field %q uses the reserved prefix %s", clip(k, 64), MetaPrefix)}
		}
		if k == MemoryKey || k == "updated_at" {
			continue // equal to m.ID and m.UpdatedAt (checkIdentity), set below
		}
		var av types.AttributeValue
		var err error
		switch x := v.(type) {
		case string:
			av = str(x)
		case json.Number:
			if err = checkNumber(string(x)); err == nil {
				nums = append(nums, types.AttributeValueMemberN{Value: string(x)})
				av = &nums[len(nums)-1]
			}
		default:
			av, err = toAttr(v)
		}
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", clip(k, 64), err)
		}
		item[k] = av
		ms = append(ms, member{k, av})
		size += len(k) + attrSize(av)
	}
	for _, f := range [2]member{{MemoryKey, str(m.ID)}, {"updated_at", str(m.UpdatedAt)}} {
		item[f.k] = f.v
		ms = append(ms, f)
		size += len(f.k) + attrSize(f.v)
	}
	// Every attribute so far is a field of the row: len(item) is m.FieldCount().
	nums = append(nums, types.AttributeValueMemberN{Value: strconv.Itoa(len(item))},
		types.AttributeValueMemberN{Value: tsNumber(m.Instant)})
	item[attrDigest] = str(digestMembers(ms))
	item[attrNF] = &nums[len(nums)-2]
	item[attrTS] = &nums[len(nums)-1]
	item[attrPeer] = str(m.Peer)
	item[attrWrittenAt] = str(now.UTC().Format(time.RFC3339Nano))
	for _, k := range [...]string{attrDigest, attrNF, attrTS, attrPeer, attrWrittenAt} {
		size += len(k) + attrSize(item[k])
	}
	if size > MaxItemBytes {
		return nil, &unwritableError{fmt.Sprintf("item of at least %d bytes exceeds DynamoDB's %d", size, MaxItemBytes)}
	}
	return item, nil
}

// checkIdentity refuses an id DynamoDB cannot key by, and Fields that
// contradict ID or UpdatedAt (a caller's bug, so a plain error).
func checkIdentity(m replica.Memory) error {
	if m.ID == "" || len(m.ID) > maxKeyBytes {
		return &unwritableError{fmt.Sprintf("id of %d bytes: DynamoDB keys take 1 to %d", len(m.ID), maxKeyBytes)}
	}
	if v, ok := m.Fields[MemoryKey]; ok && v != any(m.ID) {
		return fmt.Errorf("field id (%T) differs from ID", v)
	}
	if v, ok := m.Fields["updated_at"]; ok && v != any(m.UpdatedAt) {
		return fmt.Errorf("field updated_at (%T) differs from UpdatedAt %q", v, clip(m.UpdatedAt, 64))
	}
	return nil
}
