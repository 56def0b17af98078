package ddbstore

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/aimemory/catchup/internal/utf8cut"
)

// DynamoDB numbers: at most 38 significant digits, magnitude between 1E-130
// and 9.99...E+125 (or zero).
const (
	maxDigits   = 38
	minExponent = -130 // smallest power of ten of a non-zero value
	maxExponent = 125  // largest power of ten of any value
)

// checkNumber returns an *unwritableError when DynamoDB cannot hold text as a
// number, so the row is quarantined before a round trip, with a clear reason.
// Leading and trailing zeros do not count as digits, as in DynamoDB.
func checkNumber(text string) error {
	if plainNumber(text) {
		return nil
	}
	return checkNumberText(text)
}

// plainNumber reports a number DynamoDB holds without working out its
// exponent: an optional "-", 1 to 38 digits in all, at most one "." and no
// exponent. Its leading digit sits between 10^-38 and 10^37, inside the
// range, so checkNumberText would accept it too; the fast path spares every
// row's numbers the big.Int arithmetic.
func plainNumber(text string) bool {
	s := strings.TrimPrefix(text, "-")
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits >= 1 && digits <= maxDigits && dots <= 1
}

// checkNumberText is checkNumber for any text.
func checkNumberText(text string) error {
	digits, exp, ok := splitNumber(text)
	if !ok {
		return &unwritableError{fmt.Sprintf("number %q is not a decimal number", clip(text, 64))}
	}
	digits = strings.TrimLeft(digits, "0")
	trimmed := strings.TrimRight(digits, "0")
	if trimmed == "" {
		return nil // zero
	}
	if len(trimmed) > maxDigits {
		return &unwritableError{fmt.Sprintf("number %q has more than %d significant digits", clip(text, 64), maxDigits)}
	}
	// value = digits × 10^exp, so its leading digit sits at 10^(len(digits)-1+exp).
	lead := new(big.Int).SetInt64(int64(len(digits) - 1))
	lead.Add(lead, exp)
	if lead.Cmp(big.NewInt(maxExponent)) > 0 || lead.Cmp(big.NewInt(minExponent)) < 0 {
		return &unwritableError{fmt.Sprintf("number %q is out of DynamoDB's range 1E-130..1E+126", clip(text, 64))}
	}
	return nil
}

// splitNumber reads [+-]digits[.digits][(e|E)[+-]digits] as all its digits
// and the power of ten of the last one.
func splitNumber(text string) (digits string, exp *big.Int, ok bool) {
	s := strings.TrimLeft(text, "+-")
	if len(text)-len(s) > 1 {
		return "", nil, false
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	whole, frac, _ := strings.Cut(mant, ".")
	if whole+frac == "" || !allDigits(whole) || !allDigits(frac) {
		return "", nil, false
	}
	exp = new(big.Int)
	if hasExp {
		if _, ok := exp.SetString(expText, 10); !ok || !allDigits(strings.TrimLeft(expText, "+-")) {
			return "", nil, false
		}
	}
	exp.Sub(exp, big.NewInt(int64(len(frac))))
	return whole + frac, exp, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// tsNumber encodes an instant as integer nanoseconds since the Unix epoch in
// decimal. time.UnixNano overflows outside 1678..2262; big.Int does not, so
// year 9999 and pre-1970 instants order correctly as DynamoDB numbers.
func tsNumber(t time.Time) string {
	if y := t.Year(); y > 1678 && y < 2262 {
		return strconv.FormatInt(t.UnixNano(), 10) // the same text, without big.Int
	}
	n := big.NewInt(t.Unix())
	n.Mul(n, big.NewInt(int64(time.Second)))
	n.Add(n, big.NewInt(int64(t.Nanosecond())))
	return n.String()
}

// parseTSNumber is the inverse of tsNumber.
func parseTSNumber(s string) (time.Time, error) {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return time.Time{}, fmt.Errorf("timestamp number %q is not an integer", s)
	}
	sec, nsec := new(big.Int).DivMod(n, big.NewInt(int64(time.Second)), new(big.Int))
	if !sec.IsInt64() {
		return time.Time{}, fmt.Errorf("timestamp number %q is out of range", s)
	}
	return time.Unix(sec.Int64(), nsec.Int64()).UTC(), nil
}

// clip shortens s to at most n bytes for an error message, on a rune boundary.
func clip(s string, n int) string {
	p, cut := utf8cut.Prefix(s, n)
	if !cut {
		return s
	}
	return p + "...(" + strconv.Itoa(len(s)) + " bytes)"
}
