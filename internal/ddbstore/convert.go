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

// toAttr converts a value decoded from JSON (with UseNumber) to an attribute
// value: objects to M, arrays to L, strings to S, numbers to N with their
// text, booleans to BOOL, null to NULL. A number DynamoDB cannot hold is an
// *unwritableError; a Go type JSON never produces is a plain error.
func toAttr(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case string:
		return &types.AttributeValueMemberS{Value: x}, nil
	case json.Number:
		return numberAttr(string(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, &unwritableError{fmt.Sprintf("number %v is not finite", x)}
		}
		return numberAttr(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		return numberAttr(strconv.Itoa(x))
	case int64:
		return numberAttr(strconv.FormatInt(x, 10))
	case map[string]any:
		return mapAttr(x)
	case []any:
		return listAttr(x)
	}
	return nil, fmt.Errorf("cannot store a %T", v)
}

func numberAttr(text string) (types.AttributeValue, error) {
	if err := checkNumber(text); err != nil {
		return nil, err
	}
	return &types.AttributeValueMemberN{Value: text}, nil
}

func mapAttr(m map[string]any) (types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		av, err := toAttr(v)
		if err != nil {
			return nil, err
		}
		out[k] = av
	}
	return &types.AttributeValueMemberM{Value: out}, nil
}

func listAttr(l []any) (types.AttributeValue, error) {
	out := make([]types.AttributeValue, len(l))
	for i, v := range l {
		av, err := toAttr(v)
		if err != nil {
			return nil, err
		}
		out[i] = av
	}
	return &types.AttributeValueMemberL{Value: out}, nil
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
