package ddbstore

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
)

// decodeRow decodes JSON as the peers' client does: numbers kept as text.
func decodeRow(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestToAttr(t *testing.T) {
	row := decodeRow(t, `{"s":"x","e":"","n":-1.50,"t":true,"f":false,"z":null,
		"l":[1,"a",[],{}],"m":{"k":{"deep":[null]}}}`)
	got, err := toAttr(row)
	if err != nil {
		t.Fatal(err)
	}
	want := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"s": &types.AttributeValueMemberS{Value: "x"},
		"e": &types.AttributeValueMemberS{Value: ""},
		"n": &types.AttributeValueMemberN{Value: "-1.50"},
		"t": &types.AttributeValueMemberBOOL{Value: true},
		"f": &types.AttributeValueMemberBOOL{Value: false},
		"z": &types.AttributeValueMemberNULL{Value: true},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberN{Value: "1"},
			&types.AttributeValueMemberS{Value: "a"},
			&types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"k": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"deep": &types.AttributeValueMemberL{Value: []types.AttributeValue{
					&types.AttributeValueMemberNULL{Value: true},
				}},
			}},
		}},
	}}
	if diff := cmp.Diff(want, got, attrOpts); diff != "" {
		t.Errorf("toAttr (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(row, fromAttr(got)); diff != "" {
		t.Errorf("fromAttr(toAttr(row)) (-want +got):\n%s", diff)
	}
}

// attrOpts compares attribute values by their exported fields.
var attrOpts = cmp.Exporter(func(_ reflect.Type) bool { return true })

func TestToAttrRefuses(t *testing.T) {
	tests := []struct {
		name       string
		v          any
		unwritable bool
	}{
		{"number out of range", map[string]any{"a": []any{json.Number("1e400")}}, true},
		{"too precise", json.Number("0.1234567890123456789012345678901234567890"), true},
		{"not a number", json.Number("x"), true},
		{"Go type JSON never makes", struct{}{}, false},
		{"nested Go type", []any{1.5, map[string]any{"c": make(chan int)}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := toAttr(tt.v)
			var uw *unwritableError
			if err == nil || errors.As(err, &uw) != tt.unwritable {
				t.Errorf("toAttr = %v, want an error (unwritable: %v)", err, tt.unwritable)
			}
		})
	}
}

func jsonNumber(s string) json.Number { return json.Number(s) }

// toAttr is attr in fresh storage, for a value on its own.
func toAttr(v any) (types.AttributeValue, error) {
	var b itemBuilder
	return b.attr(v)
}
