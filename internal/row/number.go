package row

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// intIn accepts an integer literal (no fraction, no exponent: the peers
// decode these fields as Rust integers) in lo..hi.
func intIn(lo, hi int64) func(any, bool) error {
	return func(v any, _ bool) error {
		text, n, err := asInt(v)
		if err != nil {
			return err
		}
		if n < lo || n > hi {
			if hi == math.MaxInt64 {
				return fmt.Errorf("%s is below %d", text, lo)
			}
			return fmt.Errorf("%s out of range %d..%d", text, lo, hi)
		}
		return nil
	}
}

// asInt returns a number's text and value; a literal beyond int64 is
// reported as out of range by the caller's bounds.
func asInt(v any) (string, int64, error) {
	switch v := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(v.String(), 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return "", 0, fmt.Errorf("%s out of the 64-bit integer range", v)
		}
		if err != nil {
			return "", 0, fmt.Errorf("%s is not an integer", v)
		}
		return v.String(), n, nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return "", 0, fmt.Errorf("%v is not an integer", v)
		}
		return strconv.FormatFloat(v, 'f', -1, 64), int64(v), nil
	}
	return "", 0, fmt.Errorf("a JSON %s, want a number", KindOf(v))
}

func checkConfidence(v any, _ bool) error {
	var f float64
	switch v := v.(type) {
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(v.String(), 64); err != nil {
			return fmt.Errorf("%s is not finite", v)
		}
	case float64:
		f = v
	default:
		return fmt.Errorf("a JSON %s, want a number", KindOf(v))
	}
	if math.IsNaN(f) || f < 0 || f > 1 {
		return fmt.Errorf("%v out of range 0..1", v)
	}
	return nil
}
