package ddbstore

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestCheckNumber(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
	}{
		{"0", true},
		{"-0", true},
		{"0.000", true},
		{"42", true},
		{"-3.25", true},
		{"1e5", true},
		{"1E+5", true},
		{"2.5e-3", true},
		{"12345678901234567890123456789012345678", true},        // 38 digits
		{"123456789012345678901234567890123456789", false},      // 39
		{"1234567890123456789012345678901234567800000", true},   // trailing zeros do not count
		{"0.000012345678901234567890123456789012345678", true},  // leading zeros do not count
		{"1.23456789012345678901234567890123456789e10", false},  // 39 digits
		{"9.9999999999999999999999999999999999999E+125", true},  // the largest
		{"-9.9999999999999999999999999999999999999E+125", true}, // the smallest
		{"1e126", false},
		{"10e125", false},
		{"1e400", false},
		{"-1e400", false},
		{"1e-130", true},
		{"0.1e-129", true},
		{"0.1e-130", false},
		{"1e-400", false},
		{"0e99999999999999999999999", true},
		{"1e99999999999999999999999", false},
		{"", false},
		{"-", false},
		{"abc", false},
		{"1e", false},
		{"1e+", false},
		{"--1", false},
		{" 1", false},
		{"1.2.3", false},
		{"NaN", false},
		{"Infinity", false},
	}
	for _, tt := range tests {
		err := checkNumber(tt.text)
		if got := err == nil; got != tt.ok {
			t.Errorf("checkNumber(%q) = %v, want ok=%v", tt.text, err, tt.ok)
		}
		var uw *unwritableError
		if err != nil && !errors.As(err, &uw) {
			t.Errorf("checkNumber(%q) = %T, want *unwritableError", tt.text, err)
		}
	}
}

func TestTSNumber(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"1970-01-01T00:00:00Z", "0"},
		{"1970-01-01T00:00:00.000000001Z", "1"},
		{"1969-12-31T23:59:59.5Z", "-500000000"},
		{"1969-12-31T23:59:59.999999999Z", "-1"},
		{"2026-06-01T10:00:05Z", "1780308005000000000"},
		{"2026-06-01T12:00:05.5+02:00", "1780308005500000000"},
		{"9999-12-31T23:59:59.999999999Z", "253402300799999999999"},
		{"0001-01-01T00:00:00Z", "-62135596800000000000"},
	}
	for _, tt := range tests {
		in, err := time.Parse(time.RFC3339Nano, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := tsNumber(in); got != tt.want {
			t.Errorf("tsNumber(%s) = %s, want %s", tt.in, got, tt.want)
		}
		back, err := parseTSNumber(tt.want)
		if err != nil || !back.Equal(in) {
			t.Errorf("parseTSNumber(%s) = %v, %v; want %v", tt.want, back, err, in)
		}
	}
}

// TestTSNumberOrder checks that numeric order of the encoding is time order,
// across the whole range RFC 3339 allows.
func TestTSNumberOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	random := func() time.Time {
		return time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9))
	}
	for range 5000 {
		a, b := random(), random()
		if r.IntN(4) == 0 {
			b = a.Add(time.Duration(r.IntN(3)-1) * time.Nanosecond)
		}
		na, _ := new(big.Int).SetString(tsNumber(a), 10)
		nb, _ := new(big.Int).SetString(tsNumber(b), 10)
		if got, want := na.Cmp(nb), a.Compare(b); got != want {
			t.Fatalf("%v vs %v: numbers compare %d, instants %d", a, b, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := clip("héllo", 2); got != "h...(6 bytes)" {
		t.Errorf("clip splits a character: %q", got)
	}
	if got := clip("abc", 3); got != "abc" {
		t.Errorf("clip(abc, 3) = %q", got)
	}
}

// TestPlainNumberAgrees checks the fast path: every text plainNumber takes,
// the full check accepts too, and texts just past its edges go to the full
// check.
func TestPlainNumberAgrees(t *testing.T) {
	d38 := strings.Repeat("9", 38)
	for _, text := range []string{
		"0", "-0", "5", "-5", "1.5", "-0.000001", "5.", ".5", d38, "-" + d38,
		"0." + strings.Repeat("0", 36) + "1", d38[:20] + "." + d38[:18],
	} {
		if !plainNumber(text) {
			t.Errorf("plainNumber(%q) = false", text)
		}
		if err := checkNumberText(text); err != nil {
			t.Errorf("fast path takes %q, the full check refuses it: %v", text, err)
		}
	}
	for _, text := range []string{"", "-", ".", "1.2.3", "--1", "+1", "1e5", "1E-200", d38 + "9", "0x10", " 1"} {
		if plainNumber(text) {
			t.Errorf("plainNumber(%q) = true, want the full check", text)
		}
	}
}

// TestTSNumberFastPathAgrees compares the UnixNano text with big.Int's at
// the edges of the fast path.
func TestTSNumberFastPathAgrees(t *testing.T) {
	for _, ts := range []time.Time{
		time.Date(1679, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Unix(0, 0), time.Unix(0, 1), time.Date(2261, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 11, 27, 1, 2, 3, 456789, time.FixedZone("x", 3600)),
	} {
		n := new(big.Int).Mul(big.NewInt(ts.Unix()), big.NewInt(int64(time.Second)))
		n.Add(n, big.NewInt(int64(ts.Nanosecond())))
		if got := tsNumber(ts); got != n.String() {
			t.Errorf("tsNumber(%v) = %s, want %s", ts, got, n)
		}
	}
}
