// Package stamp parses the timestamps ai-memory peers store and compares them
// the two ways the protocol needs: as instants (who wins) and as text (what
// the server's cursor means).
package stamp

import (
	"fmt"
	"strings"
	"time"
)

// Parse reads a timestamp as the peers accept it: RFC 3339 with 'T', 't' or a
// space between date and time, 'Z' or 'z' or a numeric offset, and any number
// of fraction digits (digits past nanoseconds are truncated).
func Parse(s string) (time.Time, error) {
	if len(s) < len("2006-01-02T15:04:05Z") || len(s) > 64 {
		return time.Time{}, fmt.Errorf("timestamp %q: not RFC 3339", s)
	}
	b := []byte(s)
	switch b[10] {
	case 'T', 't', ' ':
		b[10] = 'T'
	default:
		return time.Time{}, fmt.Errorf("timestamp %q: not RFC 3339", s)
	}
	if last := len(b) - 1; b[last] == 'z' {
		b[last] = 'Z'
	}
	norm := string(b)
	// time.RFC3339Nano accepts at most 9 fraction digits; cut any beyond.
	if i := strings.IndexByte(norm[19:], '.'); i == 0 {
		j := 20
		for j < len(norm) && norm[j] >= '0' && norm[j] <= '9' {
			j++
		}
		if j == 20 {
			return time.Time{}, fmt.Errorf("timestamp %q: empty fraction", s)
		}
		if j-20 > 9 {
			norm = norm[:29] + norm[j:]
		}
	}
	t, err := time.Parse(time.RFC3339Nano, norm)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: not RFC 3339", s)
	}
	return t, nil
}

// Valid reports whether s parses as a timestamp.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// TextLess reports whether a sorts before b byte-wise, the order the peers'
// SQLite uses for `updated_at > :since`.
func TextLess(a, b string) bool { return a < b }
