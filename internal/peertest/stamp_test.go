package peertest

import (
	"testing"
	"time"
)

func TestParseStamp(t *testing.T) {
	utc := func(ns int) time.Time { return time.Date(2026, 6, 1, 10, 0, 5, ns, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-06-01T10:00:05Z", utc(0), true},
		{"2026-06-01t10:00:05z", utc(0), true},
		{"2026-06-01 10:00:05Z", utc(0), true},
		{"2026-06-01T10:00:05.5+00:00", utc(500_000_000), true},
		{"2026-06-01T10:00:05.123456789Z", utc(123_456_789), true},
		{"2026-06-01T10:00:05.1234567891234Z", utc(123_456_789), true},
		{"2026-06-01T12:00:05+02:00", utc(0), true},
		{"2026-06-01T09:30:05-00:30", utc(0), true},
		{"2026-06-01T09:59:60.5Z", time.Date(2026, 6, 1, 9, 59, 59, 999_999_999, time.UTC), true}, // leap second
		{"2026-06-30T23:59:61Z", time.Time{}, false},
		{"2026-06-01T10:00:05 00:00", time.Time{}, false}, // '+' decoded to a space
		{"2026-06-01T10:00:05", time.Time{}, false},
		{"2026-06-01T10:00:05.Z", time.Time{}, false},
		{"2026-06-01T10:00:05+0000", time.Time{}, false},
		{"2026-06-01X10:00:05Z", time.Time{}, false},
		{"2026-02-30T10:00:05Z", time.Time{}, false},
		{"2026-13-01T10:00:05Z", time.Time{}, false},
		{"2026-06-01T24:00:05Z", time.Time{}, false},
		{"2026-06-01T10:00:05Zjunk", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseStamp(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseStamp(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && !got.Equal(tt.want) {
			t.Errorf("parseStamp(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
