package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

var t0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

func TestMemoryItem(t *testing.T) {
	m := replica.Memory{
		ID:        "m1",
		UpdatedAt: "2026-06-01T12:00:05.5+02:00",
		Instant:   time.Date(2026, 6, 1, 10, 0, 5, 5e8, time.UTC),
		Fields:    decodeRow(t, `{"id":"m1","content":"c","future_field":{"_cu_nested":"ok"}}`),
		Peer:      "p1",
	}
	got, err := memoryItem(m, t0)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]types.AttributeValue{
		"id":           &types.AttributeValueMemberS{Value: "m1"},
		"updated_at":   &types.AttributeValueMemberS{Value: "2026-06-01T12:00:05.5+02:00"},
		"content":      &types.AttributeValueMemberS{Value: "c"},
		"future_field": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"_cu_nested": &types.AttributeValueMemberS{Value: "ok"}}},
	}
	want := map[string]types.AttributeValue{
		"_cu_ts":         &types.AttributeValueMemberN{Value: "1780308005500000000"},
		"_cu_nf":         &types.AttributeValueMemberN{Value: "4"},
		"_cu_digest":     &types.AttributeValueMemberS{Value: digest(data)},
		"_cu_peer":       &types.AttributeValueMemberS{Value: "p1"},
		"_cu_written_at": &types.AttributeValueMemberS{Value: "2026-06-01T10:00:00Z"},
	}
	for k, v := range data {
		want[k] = v
	}
	if diff := cmp.Diff(want, got, attrOpts); diff != "" {
		t.Errorf("memoryItem (-want +got):\n%s", diff)
	}
}

func TestMemoryItemRefuses(t *testing.T) {
	ok := replica.Memory{ID: "m1", UpdatedAt: "2026-06-01T10:00:05Z", Instant: t0, Peer: "p"}
	with := func(f func(*replica.Memory)) replica.Memory { m := ok; f(&m); return m }
	tests := []struct {
		name       string
		m          replica.Memory
		unwritable bool // else a plain error
	}{
		{"reserved field", with(func(m *replica.Memory) { m.Fields = map[string]any{"_cu_ts": "x"} }), true},
		{"empty id", with(func(m *replica.Memory) { m.ID = "" }), true},
		{"id too long for a key", with(func(m *replica.Memory) { m.ID = strings.Repeat("a", 2049) }), true},
		{"over 400 KB", with(func(m *replica.Memory) { m.Fields = map[string]any{"content": strings.Repeat("x", 410*1024)} }), true},
		{"number out of range", with(func(m *replica.Memory) { m.Fields = map[string]any{"n": jsonNumber("1e400")} }), true},
		{"field id disagrees", with(func(m *replica.Memory) { m.Fields = map[string]any{"id": "m2"} }), false},
		{"field updated_at disagrees", with(func(m *replica.Memory) { m.Fields = map[string]any{"updated_at": "2026-06-01T10:00:05.000Z"} }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := memoryItem(tt.m, t0)
			var uw *unwritableError
			if err == nil || errors.As(err, &uw) != tt.unwritable {
				t.Errorf("memoryItem = %v, want an error (unwritable: %v)", err, tt.unwritable)
			}
		})
	}
	big := with(func(m *replica.Memory) { m.Fields = map[string]any{"content": strings.Repeat("x", 390*1024)} })
	if _, err := memoryItem(big, t0); err != nil {
		t.Errorf("390 KB item refused: %v", err)
	}
}

// putErrAPI answers every PutItem with err, as the SDK would after retries.
type putErrAPI struct {
	dynamoAPI
	err error
}

func (f putErrAPI) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "PutItem", Err: f.err}
}

func TestPutMemoryTranslatesErrors(t *testing.T) {
	validation := func(msg string) error { return &smithy.GenericAPIError{Code: "ValidationException", Message: msg} }
	tests := []struct {
		name string
		err  error
		want error // sentinel, or nil for "retry later"
		ctx  error // context error that must stay detectable
	}{
		{"condition", &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}, replica.ErrStale, nil},
		{"too large", validation("Item size has exceeded the maximum allowed size"), replica.ErrUnwritable, nil},
		{"number", validation("Number overflow. Attempting to store a number with magnitude larger than supported range"), replica.ErrUnwritable, nil},
		{"nesting", validation("Nesting Levels have exceeded supported limits"), replica.ErrUnwritable, nil},
		{"wrong table schema", validation("One or more parameter values were invalid: Missing the key id in the item"), nil, nil},
		{"bad expression", validation("Invalid ConditionExpression: Syntax error"), nil, nil},
		{"throttled", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, nil, nil},
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, nil, nil},
		{"no table", &types.ResourceNotFoundException{Message: aws.String("no table")}, nil, nil},
		{"deadline", fmt.Errorf("request send failed: %w", context.DeadlineExceeded), nil, context.DeadlineExceeded},
	}
	m := replica.Memory{ID: "m1", UpdatedAt: "2026-06-01T10:00:05Z", Instant: t0, Peer: "p"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(putErrAPI{err: tt.err}, "mem", "state", func() time.Time { return t0 })
			err := s.PutMemory(context.Background(), m)
			if err == nil {
				t.Fatal("PutMemory succeeded")
			}
			for _, sentinel := range []error{replica.ErrStale, replica.ErrUnwritable, replica.ErrConflict} {
				if errors.Is(err, sentinel) != (sentinel == tt.want) {
					t.Errorf("PutMemory = %v; errors.Is(%v) = %v", err, sentinel, !(sentinel == tt.want))
				}
			}
			var ae smithy.APIError
			if errors.As(err, &ae) {
				t.Errorf("PutMemory leaks an SDK error: %v", err)
			}
			if tt.ctx != nil && !errors.Is(err, tt.ctx) {
				t.Errorf("PutMemory = %v, want errors.Is %v", err, tt.ctx)
			}
		})
	}
}

// TestMemoryItemKeyOrderIsOnlyAHint: an item is the same whatever key order
// memoryItem holds from the rows before it: none, this row's, or that of a
// row with other keys (as many, or a different count).
func TestMemoryItemKeyOrderIsOnlyAHint(t *testing.T) {
	rows := []string{
		`{"id":"m1","updated_at":"2026-06-01T10:00:00Z","b":"x","a":[1,{"z":null,"y":true}],"c":2.5}`,
		`{"id":"m1","updated_at":"2026-06-01T10:00:00Z","b":"x","a":[1],"d":2.5}`,
		`{"id":"m1","b":"x","a":[1],"c":2.5}`,
		`{"id":"m1","updated_at":"2026-06-01T10:00:00Z","b":"x"}`,
		`{"id":"m1","updated_at":"2026-06-01T10:00:00Z","b":"x","_cu_ts":1,"c":2.5}`,
	}
	memory := func(row string) replica.Memory {
		return replica.Memory{ID: "m1", UpdatedAt: "2026-06-01T10:00:00Z", Instant: t0, Fields: decodeRow(t, row), Peer: "p1"}
	}
	for _, row := range rows {
		keyOrder.Store(nil)
		want, wantErr := memoryItem(memory(row), t0)
		for _, before := range rows {
			keyOrder.Store(nil)
			memoryItem(memory(before), t0) // leaves its keys as the hint, when it is writable
			got, err := memoryItem(memory(row), t0)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("%s after %s: error %v, without a hint %v", row, before, err, wantErr)
			}
			if diff := cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
				t.Fatalf("%s after %s: item (-no hint +hint):\n%s", row, before, diff)
			}
		}
	}
}

// TestPooledStorageBuildsFreshItems: a request built in storage that items
// of other shapes used before (more fields, fewer, nested values, a refused
// row) is the request built in fresh storage, and release leaves the
// storage holding no value of the row.
func TestPooledStorageBuildsFreshItems(t *testing.T) {
	big := `{"id":"m1","updated_at":"2026-06-01T10:00:00Z"`
	for i := range 40 {
		big += fmt.Sprintf(`,"f%d":["s%d",{"n":%d,"t":[true,null]}]`, i, i, i)
	}
	big += "}"
	rows := []string{
		`{"id":"m1","updated_at":"2026-06-01T10:00:00Z","b":"x","a":[1,{"z":null,"y":true}],"c":2.5}`,
		big,
		`{"id":"m1","updated_at":"2026-06-01T10:00:00Z","b":"x"}`,
		`{"id":"m1","updated_at":"2026-06-01T10:00:00Z","m":{"a":{"b":["c","d",{"e":"f"}]}},"l":[[],[[]],{}]}`,
		`{"id":"m1","updated_at":"2026-06-01T10:00:00Z","b":"x","_cu_ts":1}`,
		`{"id":"m1","updated_at":"2026-06-01T10:00:00Z","n":1e999999}`,
	}
	memory := func(row string) replica.Memory {
		return replica.Memory{ID: "m1", UpdatedAt: "2026-06-01T10:00:00Z", Instant: t0, Fields: decodeRow(t, row), Peer: "p1"}
	}
	s := &Store{memories: "memories", now: func() time.Time { return t0 }}
	st := new(itemStore)
	for _, row := range rows {
		for _, before := range rows {
			s.putMemoryInput(memory(before), st)
			st.release()
			want, wantErr := s.PutMemoryInput(memory(row))
			got, err := s.putMemoryInput(memory(row), st)
			if (err == nil) != (wantErr == nil) {
				t.Fatalf("%s after %s: error %v, in fresh storage %v", row, before, err, wantErr)
			}
			if diff := cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
				t.Fatalf("%s after %s: request (-fresh +pooled):\n%s", row, before, diff)
			}
			st.release()
			if len(st.item) != 0 || len(st.values) != 0 || st.in.Item != nil {
				t.Fatalf("%s: released storage still holds the item", row)
			}
			for _, s := range st.strs[:cap(st.strs)] {
				if s.Value != "" {
					t.Fatalf("%s: released storage still holds %q", row, s.Value)
				}
			}
		}
	}
}
