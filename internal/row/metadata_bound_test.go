package row

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// The bound that lets checkMetadata skip serializing must never be below
// what the encoder writes, or a metadata over the limit would pass.
func TestSerializedBoundCoversEncoder(t *testing.T) {
	values := []any{
		nil, true, false, "", "plain", "<>&", "\u2028\u2029", "\x00\x01\x1f\n\t\"\\", "bad\xff\xfe",
		json.Number("0"), json.Number("-12.5e+300"), 1e-300, -math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1,
		[]any{}, map[string]any{}, []any{nil, "x", json.Number("1")},
		map[string]any{"\u2028k\x01": []any{map[string]any{"a\xff": "b\u2028"}}, "n": json.Number("7")},
	}
	for _, v := range values {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		if got, size := serializedBound(v), buf.Len()-1; got < size {
			t.Errorf("%#v: bound %d < serialized %d", v, got, size)
		}
	}
	for _, v := range []any{json.Number("1x"), json.Number("01"), json.Number(""), math.NaN(), math.Inf(1), 3} {
		if serializedBound(v) != unbounded {
			t.Errorf("%#v: bounded, want unbounded (the encoder decides)", v)
		}
	}
}

// A value the encoder refuses is still refused when it is small.
func TestMetadataInvalidNumberRefused(t *testing.T) {
	err := checkMetadata(map[string]any{"n": json.Number("1x")}, false)
	if err == nil || !strings.Contains(err.Error(), "cannot be serialized") {
		t.Fatalf("got %v, want cannot be serialized", err)
	}
}
