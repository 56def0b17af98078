package row

import (
	"encoding/json"
	"fmt"
	"math"
)

// checkMetadata accepts null or an object of at most maxMetadataBytes
// serialized and nesting depth maxMetadataDepth (the object itself is depth
// 1). The size is that of compact JSON without HTML escaping, as serde_json
// writes it; key order does not change the size.
func checkMetadata(v any, _ bool) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("a JSON %s, want an object", KindOf(v))
	}
	if d := depth(m, maxMetadataDepth+1); d > maxMetadataDepth {
		return fmt.Errorf("nested deeper than %d", maxMetadataDepth)
	}
	if serializedBound(m) <= maxMetadataBytes {
		return nil // cannot exceed the limit: skip serializing it (most of the rule's CPU)
	}
	var n byteCounter
	enc := json.NewEncoder(&n)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("cannot be serialized: %v", err)
	}
	if size := int(n) - 1; size > maxMetadataBytes { // Encode adds a newline
		return fmt.Errorf("%d bytes serialized, at most %d", size, maxMetadataBytes)
	}
	return nil
}

// depth is the nesting depth of a decoded JSON value (a scalar is 0), not
// counted past stop.
func depth(v any, stop int) int {
	if stop <= 0 {
		return 0
	}
	deepest := 0
	switch v := v.(type) {
	case map[string]any:
		for _, c := range v {
			deepest = max(deepest, depth(c, stop-1))
		}
	case []any:
		for _, c := range v {
			deepest = max(deepest, depth(c, stop-1))
		}
	default:
		return 0
	}
	return 1 + deepest
}

// byteCounter is an io.Writer that only counts.
type byteCounter int

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

// unbounded is what serializedBound returns for a value it cannot bound, so
// that checkMetadata serializes it (and reports an error the encoder finds).
const unbounded = math.MaxInt / 2

// serializedBound is at least the size of v as json.Encoder writes it
// without HTML escaping, or unbounded: a string byte is written as at most 6
// bytes (\u00XX, \ufffd for a bad byte, \u2028 for 3 bytes), a json.Number
// as its text (when it is a JSON number: else the encoder fails), a finite
// float64 in at most 24 bytes. The sum saturates at unbounded.
func serializedBound(v any) int {
	switch v := v.(type) {
	case nil:
		return 4
	case bool:
		return 5
	case string:
		return 2 + 6*len(v)
	case json.Number:
		if !isJSONNumber(string(v)) {
			return unbounded
		}
		return len(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return unbounded
		}
		return 24
	case map[string]any:
		n := 2 + len(v) // braces, and a colon and a comma at most per member
		for k, c := range v {
			n = min(n+2+6*len(k)+serializedBound(c), unbounded)
		}
		return n
	case []any:
		n := 2 + len(v)
		for _, c := range v {
			n = min(n+serializedBound(c), unbounded)
		}
		return n
	}
	return unbounded
}

// isJSONNumber reports whether s is a number by the JSON grammar.
func isJSONNumber(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}
