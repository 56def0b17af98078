// Package utf8cut shortens strings to a byte budget without splitting a
// character: the one truncator behind error messages, quarantine records and
// peer answer excerpts.
package utf8cut

import "unicode/utf8"

// Prefix returns the longest prefix of s of at most n bytes that ends on a
// rune boundary, and whether anything was cut.
func Prefix(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
