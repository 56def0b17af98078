package ddbstore

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// unwritableError is a value DynamoDB would refuse whatever we do.
type unwritableError struct{ reason string }

func (e *unwritableError) Error() string { return e.reason }

// attr converts a value decoded from JSON (with UseNumber) to an attribute
// value: objects to M, arrays to L, strings to S, numbers to N with their
// text, booleans to BOOL, null to NULL. A number DynamoDB cannot hold is an
// *unwritableError; a Go type JSON never produces is a plain error. Its
// strings, numbers, lists and maps live in b's arrays: an item's nested
// values cost an allocation an array, not one a value.
func (b *itemBuilder) attr(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case string:
		return b.str(x), nil
	case json.Number:
		return b.num(string(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, &unwritableError{fmt.Sprintf("number %v is not finite", x)}
		}
		return b.num(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		return b.num(strconv.Itoa(x))
	case int64:
		return b.num(strconv.FormatInt(x, 10))
	case map[string]any:
		out := make(map[string]types.AttributeValue, len(x))
		for k, e := range x {
			av, err := b.attr(e)
			if err != nil {
				return nil, err
			}
			out[k] = av
		}
		b.maps = append(b.maps, types.AttributeValueMemberM{Value: out})
		return &b.maps[len(b.maps)-1], nil
	case []any:
		out := make([]types.AttributeValue, len(x))
		for i, e := range x {
			av, err := b.attr(e)
			if err != nil {
				return nil, err
			}
			out[i] = av
		}
		b.lists = append(b.lists, types.AttributeValueMemberL{Value: out})
		return &b.lists[len(b.lists)-1], nil
	}
	return nil, fmt.Errorf("cannot store a %T", v)
}

// num is a number attribute of text, which DynamoDB must be able to hold.
func (b *itemBuilder) num(text string) (types.AttributeValue, error) {
	if err := checkNumber(text); err != nil {
		return nil, err
	}
	b.nums = append(b.nums, types.AttributeValueMemberN{Value: text})
	return &b.nums[len(b.nums)-1], nil
}

// fromAttr is the inverse of toAttr: N becomes a json.Number with the stored
// text. Types toAttr never writes (sets, binary) are read as lists and bytes
// so that an item written by another tool still reads.
func fromAttr(av types.AttributeValue) any {
	switch x := av.(type) {
	case *types.AttributeValueMemberS:
		return x.Value
	case *types.AttributeValueMemberN:
		return json.Number(x.Value)
	case *types.AttributeValueMemberBOOL:
		return x.Value
	case *types.AttributeValueMemberM:
		return fromAttrMap(x.Value)
	case *types.AttributeValueMemberL:
		out := make([]any, len(x.Value))
		for i, v := range x.Value {
			out[i] = fromAttr(v)
		}
		return out
	case *types.AttributeValueMemberB:
		return x.Value
	case *types.AttributeValueMemberSS:
		return setToList(x.Value, func(s string) any { return s })
	case *types.AttributeValueMemberNS:
		return setToList(x.Value, func(s string) any { return json.Number(s) })
	case *types.AttributeValueMemberBS:
		return setToList(x.Value, func(b []byte) any { return b })
	}
	return nil // NULL, or a type unknown to this SDK version
}

func fromAttrMap(m map[string]types.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = fromAttr(v)
	}
	return out
}

func setToList[T any](vs []T, f func(T) any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out
}
