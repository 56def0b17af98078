package row

import (
	"encoding/json"
	"fmt"
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
