package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// putNames are putCondition's names, one map for every request: the SDK
// only reads a request's maps, and nothing here writes this one.
var putNames = map[string]string{"#id": MemoryKey, "#ts": attrTS, "#nf": attrNF, "#dg": attrDigest}

// PutMemory writes m when the table has no item with m.ID, or an older one
// (by instant; equal instants are won by more fields, then by the larger
// content digest). It
// returns replica.ErrStale when refused by that condition, replica.ErrUnwritable for an item
// DynamoDB can never take (over 400 KB, a number out of range, a field named
// with MetaPrefix...), or another error (retryable, after SDK retries).
// Fields may hold "id" and "updated_at"; they must then equal ID and UpdatedAt.
func (s *Store) PutMemory(ctx context.Context, m replica.Memory) error {
	st := itemStores.Get().(*itemStore)
	in, err := s.putMemoryInput(m, st)
	if err == nil {
		_, err = s.api.PutItem(ctx, in)
	}
	// PutItem has serialized the item, and retries resend those bytes: the
	// item's storage is free again, whatever the outcome.
	st.release()
	if err == nil {
		return nil
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
	return s.putMemoryInput(m, new(itemStore))
}

// putMemoryInput builds the request in st's storage.
func (s *Store) putMemoryInput(m replica.Memory, st *itemStore) (*dynamodb.PutItemInput, error) {
	item, err := buildItem(m, s.now(), st)
	var uw *unwritableError
	if errors.As(err, &uw) {
		return nil, fmt.Errorf("%w: %s", replica.ErrUnwritable, uw.reason)
	}
	if err != nil {
		return nil, err
	}
	if st.values == nil {
		st.values = make(map[string]types.AttributeValue, 3)
	}
	st.values[":ts"], st.values[":nf"], st.values[":dg"] = item[attrTS], item[attrNF], item[attrDigest]
	st.table = s.memories
	st.in = dynamodb.PutItemInput{
		TableName:                 &st.table,
		Item:                      item,
		ConditionExpression:       putConditionText,
		ExpressionAttributeNames:  putNames,
		ExpressionAttributeValues: st.values,
	}
	return &st.in, nil
}

// putConditionText is putCondition for every request (the SDK only reads it).
var putConditionText = aws.String(putCondition)

// memoryItem builds the item for m: its fields, id and updated_at as given,
// and the meta attributes. Refusals DynamoDB would make are *unwritableError.
func memoryItem(m replica.Memory, now time.Time) (map[string]types.AttributeValue, error) {
	return buildItem(m, now, new(itemStore))
}

// buildItem is memoryItem in st's storage: the item is the caller's until
// st.release.
func buildItem(m replica.Memory, now time.Time, st *itemStore) (map[string]types.AttributeValue, error) {
	if err := checkIdentity(m); err != nil {
		return nil, err
	}
	b := st.builder(len(m.Fields))
	defer st.keep(&b)
	mp := memberBufs.Get().(*[]member)
	b.ms = (*mp)[:0]
	defer func() {
		if cap(b.ms) <= 1024 { // keep no huge buffer alive
			clear(b.ms) // nor any item
			*mp = b.ms[:0]
			memberBufs.Put(mp)
		}
	}()
	// The row's members are added in the byte order of their keys, as the
	// digest encodes them, when the row has the keys of the last row that
	// was sorted (rows of a mesh share their keys): no sort a row.
	sorted, err := b.inOrder(m, keyOrder.Load())
	if !sorted && err == nil {
		b.reset()
		err = b.anyOrder(m)
	}
	if err != nil {
		return nil, err
	}
	item := b.item
	// Every attribute so far is a field of the row: len(item) is m.FieldCount().
	b.nums = append(b.nums, types.AttributeValueMemberN{Value: strconv.Itoa(len(item))},
		types.AttributeValueMemberN{Value: tsNumber(m.Instant)})
	item[attrDigest] = b.str(digestMembers(b.ms, sorted))
	if !sorted {
		keys := make([]string, len(b.ms))
		for i, f := range b.ms { // sorted by digestMembers
			keys[i] = f.k
		}
		keyOrder.Store(&keys)
	}
	item[attrNF] = &b.nums[len(b.nums)-2]
	item[attrTS] = &b.nums[len(b.nums)-1]
	item[attrPeer] = b.str(m.Peer)
	item[attrWrittenAt] = b.str(now.UTC().Format(time.RFC3339Nano))
	for _, k := range [...]string{attrDigest, attrNF, attrTS, attrPeer, attrWrittenAt} {
		b.size += len(k) + attrSize(item[k])
	}
	if b.size > MaxItemBytes {
		return nil, &unwritableError{fmt.Sprintf("item of at least %d bytes exceeds DynamoDB's %d", b.size, MaxItemBytes)}
	}
	return item, nil
}

// itemStore is the storage of one request: the item's map, the arrays its
// strings, numbers, lists and maps live in, and the request itself.
// PutMemory takes one from itemStores for each row and gives it back once
// PutItem has returned, so that a row's item (about a third of the bytes
// the pass allocated a row, beside the SDK's) is not garbage to collect.
type itemStore struct {
	item   map[string]types.AttributeValue
	strs   []types.AttributeValueMemberS
	nums   []types.AttributeValueMemberN
	lists  []types.AttributeValueMemberL
	maps   []types.AttributeValueMemberM
	in     dynamodb.PutItemInput           // the request, for putMemoryInput
	values map[string]types.AttributeValue // its condition's values
	table  string                          // its table's name
}

var itemStores = sync.Pool{New: func() any { return new(itemStore) }}

// builder starts an item of a row with n fields in st's storage, growing it
// when the row has more fields than it was made for.
func (st *itemStore) builder(n int) itemBuilder {
	if st.item == nil || cap(st.strs) < n+5 || cap(st.nums) < n+2 {
		st.item = make(map[string]types.AttributeValue, n+6)
		st.strs = make([]types.AttributeValueMemberS, 0, n+5)
		st.nums = make([]types.AttributeValueMemberN, 0, n+2)
	}
	return itemBuilder{item: st.item, strs: st.strs[:0], nums: st.nums[:0], lists: st.lists[:0], maps: st.maps[:0]}
}

// keep records what b grew to (an append past capacity moved an array; the
// values already in the item still point into the old one, which stays
// alive with them).
func (st *itemStore) keep(b *itemBuilder) {
	st.strs, st.nums, st.lists, st.maps = b.strs, b.nums, b.lists, b.maps
}

// maxPooledValues bounds the storage kept for reuse: a rare huge row's is
// left to the collector.
const maxPooledValues = 1024

// release empties st, holding no row's strings, and gives it back to
// itemStores; nothing may use the item built in it after.
func (st *itemStore) release() {
	clear(st.item)
	clear(st.values)
	st.in = dynamodb.PutItemInput{}
	clear(st.strs[:cap(st.strs)])
	clear(st.nums[:cap(st.nums)])
	clear(st.lists[:cap(st.lists)])
	clear(st.maps[:cap(st.maps)])
	st.strs, st.nums, st.lists, st.maps = st.strs[:0], st.nums[:0], st.lists[:0], st.maps[:0]
	if cap(st.strs)+cap(st.nums)+cap(st.lists)+cap(st.maps) <= maxPooledValues {
		itemStores.Put(st)
	}
}

// memberBufs reuse the members gathered for a digest across rows.
var memberBufs = sync.Pool{New: func() any { ms := make([]member, 0, 32); return &ms }}

// keyOrder holds the sorted member keys of the last item whose members
// memoryItem sorted: a hint, shared by every writer, never a rule (a row
// with other keys is sorted, and becomes the hint).
var keyOrder atomic.Pointer[[]string]

// itemBuilder gathers an item, its members for the digest and its size, as
// the item is built, not by walking it twice more. The top level's strings
// and numbers, most of its values, and the meta attributes share two
// arrays: two allocations instead of one a value.
type itemBuilder struct {
	item  map[string]types.AttributeValue
	strs  []types.AttributeValueMemberS
	nums  []types.AttributeValueMemberN
	lists []types.AttributeValueMemberL
	maps  []types.AttributeValueMemberM
	ms    []member
	size  int
}

func (b *itemBuilder) str(v string) types.AttributeValue {
	b.strs = append(b.strs, types.AttributeValueMemberS{Value: v})
	return &b.strs[len(b.strs)-1]
}

func (b *itemBuilder) reset() {
	clear(b.item)
	b.strs, b.nums, b.lists, b.maps, b.ms, b.size = b.strs[:0], b.nums[:0], b.lists[:0], b.maps[:0], b.ms[:0], 0
}

// inOrder adds m's members in the order of keys, and reports false (having
// added some) when keys are not exactly m's members.
func (b *itemBuilder) inOrder(m replica.Memory, keys *[]string) (bool, error) {
	if keys == nil || len(*keys) != m.FieldCount() {
		return false, nil
	}
	for _, k := range *keys {
		var err error
		switch k {
		case MemoryKey:
			b.add(k, b.str(m.ID))
		case "updated_at":
			b.add(k, b.str(m.UpdatedAt))
		default:
			v, ok := m.Fields[k]
			if !ok {
				return false, nil
			}
			err = b.field(k, v)
		}
		if err != nil {
			return false, err
		}
	}
	return true, nil
}

// anyOrder adds m's members in the order of its map.
func (b *itemBuilder) anyOrder(m replica.Memory) error {
	for k, v := range m.Fields {
		if k == MemoryKey || k == "updated_at" {
			continue // equal to m.ID and m.UpdatedAt (checkIdentity), added below
		}
		if err := b.field(k, v); err != nil {
			return err
		}
	}
	b.add(MemoryKey, b.str(m.ID))
	b.add("updated_at", b.str(m.UpdatedAt))
	return nil
}

// field adds the row's field k.
func (b *itemBuilder) field(k string, v any) error {
	if strings.HasPrefix(k, MetaPrefix) {
		return &unwritableError{fmt.Sprintf("field %q uses the reserved prefix %s", clip(k, 64), MetaPrefix)}
	}
	av, err := b.attr(v)
	if err != nil {
		return fmt.Errorf("field %q: %w", clip(k, 64), err)
	}
	b.add(k, av)
	return nil
}

func (b *itemBuilder) add(k string, av types.AttributeValue) {
	b.item[k] = av
	b.ms = append(b.ms, member{k, av})
	b.size += len(k) + attrSize(av)
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
