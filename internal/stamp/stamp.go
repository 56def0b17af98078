// Package stamp parses the timestamps ai-memory peers store and compares them
// the two ways the protocol needs: as instants (who wins) and as text (what
// the server's cursor means).
package stamp

import (
	"fmt"
	"time"

	"github.com/aimemory/catchup/internal/utf8cut"
)

// Parse reads a timestamp exactly as the peers accept it (chrono's RFC 3339
// parser): YYYY-MM-DD, then 'T', 't' or a space, then hh:mm:ss, an optional
// '.' and one or more fraction digits (digits past nanoseconds are
// truncated), then 'Z', 'z' or a ±hh:mm offset below 24 hours. Every field is
// fixed width and range-checked (February 30 is rejected).
//
// It is deliberately no more lenient than the peers: a string Parse accepts
// may be sent back as `since`, and a peer answers 400 to one it cannot parse.
// A leap second (ss = 60), which the peers accept in any minute, is accepted
// too (a row carrying one would otherwise be quarantined forever, replay
// included). Go's time has no leap seconds, so the whole leap second, whatever
// its fraction, is read as the last nanosecond of its minute (ss = 59,
// .999999999): it orders after every other instant of that minute and before
// the next minute, and a tie with another leap second of the same minute (or
// :59.999999999) is broken as any equal instants are (docs/protocol.md §6).
//
// The time is returned in UTC.
func Parse(s string) (time.Time, error) {
	sc := scanner{s: s}
	t, err := sc.timestamp()
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: %w", clip(s), err)
	}
	return t, nil
}

// Valid reports whether s parses as a timestamp.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// clip shortens s for an error message: a row's field may be large.
func clip(s string) string {
	p, cut := utf8cut.Prefix(s, 48)
	if !cut {
		return s
	}
	return p + "..."
}

// scanner reads a timestamp left to right; the first error sticks.
type scanner struct {
	s   string
	i   int
	err error
}

func (c *scanner) timestamp() (time.Time, error) {
	year := c.num(4, "year")
	c.lit('-')
	month := c.num(2, "month")
	c.lit('-')
	day := c.num(2, "day")
	c.oneOf("Tt ", "date-time separator")
	hour := c.num(2, "hour")
	c.lit(':')
	minute := c.num(2, "minute")
	c.lit(':')
	sec := c.num(2, "second")
	nsec := c.fraction()
	off := c.offset()
	if c.err == nil && c.i != len(c.s) {
		c.fail("trailing text")
	}
	c.check(month >= 1 && month <= 12, "month out of range")
	c.check(day >= 1 && day <= daysIn(year, month), "day out of range")
	c.check(hour <= 23 && minute <= 59 && sec <= 60, "time of day out of range")
	if c.err != nil {
		return time.Time{}, c.err
	}
	if sec == 60 {
		sec, nsec = 59, lastNano
	}
	// The wall clock less its offset is the instant: no *time.Location made
	// for each timestamp (every row has two).
	wall := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return wall.Add(-time.Duration(off) * time.Second), nil
}

// lastNano is the fraction a leap second is read as: the last nanosecond of
// its minute.
const lastNano = 999_999_999

// daysIn is the length of a month of the proleptic Gregorian calendar, as
// package time counts it (year 0 is a leap year); 0 for no month.
func daysIn(year, month int) int {
	switch {
	case month < 1 || month > 12:
		return 0
	case month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0):
		return 29
	}
	return monthDays[month]
}

var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func (c *scanner) fail(what string) {
	if c.err == nil {
		c.err = fmt.Errorf("not RFC 3339: %s at byte %d", what, c.i)
	}
}

func (c *scanner) check(ok bool, what string) {
	if !ok && c.err == nil {
		c.err = fmt.Errorf("not RFC 3339: %s", what)
	}
}

func (c *scanner) peek() byte {
	if c.err != nil || c.i >= len(c.s) {
		return 0
	}
	return c.s[c.i]
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// num reads exactly n decimal digits.
func (c *scanner) num(n int, what string) int {
	v := 0
	for range n {
		b := c.peek()
		if !isDigit(b) {
			c.fail(what)
			return 0
		}
		v = v*10 + int(b-'0')
		c.i++
	}
	return v
}

func (c *scanner) lit(want byte) {
	if c.peek() != want {
		c.fail(fmt.Sprintf("want %q", want))
		return
	}
	c.i++
}

func (c *scanner) oneOf(set, what string) byte {
	b := c.peek()
	for i := range len(set) {
		if b != 0 && set[i] == b {
			c.i++
			return b
		}
	}
	c.fail(what)
	return 0
}

// fraction reads an optional '.' and at least one digit, keeping nine.
func (c *scanner) fraction() int {
	if c.peek() != '.' {
		return 0
	}
	c.i++
	if !isDigit(c.peek()) {
		c.fail("empty fraction")
		return 0
	}
	nsec, scale := 0, 100_000_000
	for isDigit(c.peek()) {
		nsec += int(c.s[c.i]-'0') * scale
		scale /= 10
		c.i++
	}
	return nsec
}

// offset reads 'Z', 'z' or ±hh:mm and returns it in seconds east of UTC.
func (c *scanner) offset() int {
	sign := c.oneOf("Zz+-", "zone offset")
	if sign != '+' && sign != '-' {
		return 0
	}
	h := c.num(2, "offset hour")
	c.lit(':')
	m := c.num(2, "offset minute")
	c.check(h <= 23 && m <= 59, "offset out of range")
	if sign == '-' {
		return -(h*3600 + m*60)
	}
	return h*3600 + m*60
}
