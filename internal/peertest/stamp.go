package peertest

import (
	"errors"
	"time"
)

// errStamp is the reason every malformed timestamp gets; the fake answers it
// as a 400, so the detail does not matter.
var errStamp = errors.New("not an RFC 3339 timestamp")

// parseStamp reads s by the peers' lenient rules (docs/protocol.md §5): RFC 3339
// with 'T', 't' or ' ' between date and time, 'Z', 'z' or ±hh:mm, and any
// number of fraction digits (digits past nanoseconds are ignored), and a leap
// second (ss = 60, read as the minute's last nanosecond). It is
// written here, not borrowed from the client, so the fake and the client can
// disagree and a test can see it.
func parseStamp(s string) (time.Time, error) {
	if len(s) < len("2006-01-02T15:04:05Z") {
		return time.Time{}, errStamp
	}
	year, ok1 := num(s, 0, 4)
	month, ok2 := num(s, 5, 7)
	day, ok3 := num(s, 8, 10)
	hour, ok4 := num(s, 11, 13)
	minute, ok5 := num(s, 14, 16)
	sec, ok6 := num(s, 17, 19)
	seps := s[4] == '-' && s[7] == '-' && s[13] == ':' && s[16] == ':' &&
		(s[10] == 'T' || s[10] == 't' || s[10] == ' ')
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && seps) {
		return time.Time{}, errStamp
	}
	nsec, rest, ok := fraction(s[19:])
	if !ok {
		return time.Time{}, errStamp
	}
	loc, ok := zone(rest)
	if !ok || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, errStamp
	}
	if sec == 60 { // a leap second, which chrono accepts in any minute
		sec, nsec = 59, 999_999_999
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day { // 2026-02-30 normalizes to March
		return time.Time{}, errStamp
	}
	return t, nil
}

// num reads the decimal digits s[i:j].
func num(s string, i, j int) (int, bool) {
	n := 0
	for k := i; k < j; k++ {
		if s[k] < '0' || s[k] > '9' {
			return 0, false
		}
		n = n*10 + int(s[k]-'0')
	}
	return n, true
}

// fraction reads an optional ".digits" and returns the nanoseconds and the rest.
func fraction(s string) (nsec int, rest string, ok bool) {
	if s == "" || s[0] != '.' {
		return 0, s, true
	}
	i := 1
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if i <= 9 {
			nsec = nsec*10 + int(s[i]-'0')
		}
		i++
	}
	if i == 1 {
		return 0, s, false
	}
	for d := i; d <= 9; d++ {
		nsec *= 10
	}
	return nsec, s[i:], true
}

// zone reads "Z", "z" or ±hh:mm, and nothing after it.
func zone(s string) (*time.Location, bool) {
	if s == "Z" || s == "z" {
		return time.UTC, true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return nil, false
	}
	h, ok1 := num(s, 1, 3)
	m, ok2 := num(s, 4, 6)
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone(s, off), true
}
