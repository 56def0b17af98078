// Package jsonany decodes JSON held in memory into the values
// encoding/json's Decoder with UseNumber gives an any: map[string]any,
// []any (never nil), string, json.Number (the literal's text), bool and
// nil. It reads each byte once, where encoding/json scans a value to find
// its end and then scans it again to decode it; a page of rows decodes in
// about a third of the time.
//
// It decodes only input it is sure encoding/json decodes to the same values,
// and reports false on anything else: a syntax error, a string holding
// invalid UTF-8 (which encoding/json rewrites to U+FFFD), nesting deeper
// than maxDepth. A caller then decodes the same bytes with encoding/json,
// which names the error or does the rewriting; the two never disagree on
// what they both accept (TestAgreesWithEncodingJSON, FuzzAgreesWithEncodingJSON).
package jsonany

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is how deep this package nests before it gives up (and the caller
// falls back to encoding/json, which allows 10,000): far deeper than any
// row the protocol allows (metadata nests at most 32 deep).
const maxDepth = 512

// Decoder reads JSON values from a byte slice, in order.
type Decoder struct {
	b     []byte
	i     int
	depth int
	// members is the member count of the last object Object read, the size
	// its next map starts at: rows of a page have much the same keys, and a
	// map that grows as it fills costs a quarter of decoding one.
	members int
	// keys holds the object keys read so far, up to maxKeys of them, so that
	// a key every row repeats is one string, not one a row.
	keys map[string]string
	// skipping: Skip is reading, by the same grammar, building nothing.
	skipping bool
	// hints are the last top-level object's members, by position: the key
	// and short string value a row most likely has next, checked against
	// the bytes before any scan, lookup or allocation.
	hints []hint
}

// hint is a member of the last top-level object read.
type hint struct {
	key string // "" when the key was not plain
	val any    // a string of at most maxHintBytes read with no escape, else nil
}

const maxHintBytes = 64

const maxKeys = 1024

// NewDecoder reads b from its start.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Reset makes d read b from its start, keeping what it learnt of the rows
// it read before (their keys, their size): a decoder reused across rows.
func (d *Decoder) Reset(b []byte) { d.b, d.i, d.depth, d.skipping = b, 0, 0, false }

// Offset is the position in b of the next byte to read.
func (d *Decoder) Offset() int { return d.i }

// Peek skips white space and returns the next byte, 0 at the end.
func (d *Decoder) Peek() byte {
	d.space()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

// End reports whether only white space is left.
func (d *Decoder) End() bool {
	d.space()
	return d.i == len(d.b)
}

// Decode decodes b as one JSON value with nothing but white space around it.
func Decode(b []byte) (any, bool) {
	d := NewDecoder(b)
	v, ok := d.Value()
	return v, ok && d.End()
}

// Value reads the next value.
func (d *Decoder) Value() (any, bool) {
	switch c := d.Peek(); {
	case c == '{':
		m, _, ok := d.object(0, nil)
		if !ok {
			return nil, false
		}
		return m, true
	case c == '[':
		return d.array()
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, false
}

// Skip reads the next value as Value does, accepting exactly what Value
// accepts, and builds nothing: no map, no slice, no string (an escaped
// string longer than unescape's stack buffer still takes a heap one).
func (d *Decoder) Skip() bool {
	was := d.skipping
	d.skipping = true
	_, ok := d.Value()
	d.skipping = was
	return ok
}

// Strings reads the next value, which must be an object, as Skip does,
// except the members named in keys: vals[i] is the value of keys[i] when it
// is a string, "" when it is not or is absent, and of a key given twice the
// last value, as Object's map holds it. len(vals) must be len(keys).
func (d *Decoder) Strings(keys, vals []string) bool {
	clear(vals)
	return d.sequence('{', '}', func() bool {
		if d.Peek() != '"' {
			return false
		}
		at := -1
		if start, end, plain := d.plainKey(); plain {
			for i, k := range keys {
				if string(d.b[start:end]) == k {
					at = i
					break
				}
			}
			d.i = end + 1
		} else {
			k, ok := d.str()
			if !ok {
				return false
			}
			at = slices.Index(keys, k)
		}
		if d.Peek() != ':' {
			return false
		}
		d.i++
		if at < 0 {
			return d.Skip()
		}
		v, ok := d.Value()
		vals[at], _ = v.(string)
		return ok
	})
}

// Object reads the next value, which must be an object, and reports
// whether its keys are distinct. Of a key given twice the map holds the
// last value, as encoding/json's does.
func (d *Decoder) Object() (m map[string]any, distinct, ok bool) {
	return d.ObjectInto(nil)
}

// ObjectInto is Object decoding into into, an empty map, when it is not
// nil: a map given up by a row before, whose room is already there.
func (d *Decoder) ObjectInto(into map[string]any) (m map[string]any, distinct, ok bool) {
	m, distinct, ok = d.object(d.members, into)
	if ok {
		d.members = len(m)
	}
	return m, distinct, ok
}

// object reads an object into into, or when it is nil into a map made for
// size members.
func (d *Decoder) object(size int, into map[string]any) (m map[string]any, distinct, ok bool) {
	if d.Peek() != '{' || !d.enter() {
		return nil, false, false
	}
	switch {
	case into != nil:
		m = into
	case !d.skipping:
		m = make(map[string]any, size)
	}
	members := 0
	if d.Peek() == '}' {
		d.i++
		d.depth--
		return m, true, true
	}
	for {
		if d.Peek() != '"' {
			return nil, false, false
		}
		var h hint
		top := d.depth == 1 && !d.skipping
		if top && members < len(d.hints) {
			h = d.hints[members]
		}
		k, plain, ok := d.key(h.key)
		if !ok || d.Peek() != ':' {
			return nil, false, false
		}
		d.i++
		var v any
		if top {
			v, ok = d.hintedValue(members, h.val, k, plain)
		} else {
			v, ok = d.Value()
		}
		if !ok {
			return nil, false, false
		}
		if !d.skipping {
			m[k] = v
		}
		members++
		switch d.Peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return m, len(m) == members, true
		default:
			return nil, false, false
		}
	}
}

// Members reads the next value, which must be an object, calling member
// with each key; member must read the key's value (Value, Object or
// Elements) and report whether it could.
func (d *Decoder) Members(member func(key string) bool) bool {
	return d.sequence('{', '}', func() bool {
		if d.Peek() != '"' {
			return false
		}
		k, ok := d.str()
		if !ok || d.Peek() != ':' {
			return false
		}
		d.i++
		return member(k)
	})
}

// Elements reads the next value, which must be an array, calling elem for
// each element, with white space before it read; elem must read the
// element and report whether it could.
func (d *Decoder) Elements(elem func() bool) bool {
	return d.sequence('[', ']', func() bool {
		d.space()
		return elem()
	})
}

// sequence reads open, items separated by commas, and close.
func (d *Decoder) sequence(open, close byte, item func() bool) bool {
	if d.Peek() != open || !d.enter() {
		return false
	}
	if d.Peek() == close {
		d.i++
		d.depth--
		return true
	}
	for {
		if !item() {
			return false
		}
		switch d.Peek() {
		case ',':
			d.i++
		case close:
			d.i++
			d.depth--
			return true
		default:
			return false
		}
	}
}

func (d *Decoder) array() (any, bool) {
	if !d.enter() {
		return nil, false
	}
	var a []any
	if !d.skipping {
		a = make([]any, 0) // encoding/json's: an empty array is not nil
	}
	if d.Peek() == ']' {
		d.i++
		d.depth--
		return a, true
	}
	for {
		v, ok := d.Value()
		if !ok {
			return nil, false
		}
		if !d.skipping {
			a = append(a, v)
		}
		switch d.Peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			d.depth--
			return a, true
		default:
			return nil, false
		}
	}
}

// enter consumes an opening '{' or '[' a level deeper.
func (d *Decoder) enter() bool {
	d.i++
	d.depth++
	return d.depth <= maxDepth
}

func (d *Decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *Decoder) literal(word string) bool {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}

// number reads a number by the JSON grammar; its value is its text.
func (d *Decoder) number() (any, bool) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case !d.digits():
		return nil, false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			return nil, false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return nil, false
		}
	}
	if d.skipping {
		return nil, true
	}
	if n, ok := smallInt(d.b[start:d.i]); ok {
		return smallInts[n], true
	}
	return json.Number(d.b[start:d.i]), true
}

// smallInts are the json.Number values 0 to 255, boxed once: priorities,
// counts and versions, most of a row's numbers, cost no allocation.
var smallInts = func() (a [256]any) {
	for i := range a {
		a[i] = json.Number(strconv.Itoa(i))
	}
	return a
}()

// smallInt is the value of b, a number by the JSON grammar, when b is the
// text of an integer 0 to 255 (so "7", never "7.0", "-0" or "1e2").
func smallInt(b []byte) (int, bool) {
	if len(b) > 3 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n < len(smallInts)
}

// digits reads one digit or more.
func (d *Decoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// plainKey finds the key whose opening quote is the next byte when it is
// printable ASCII with no escape: its bytes are b[start:end], its closing
// quote at end. It reads nothing.
func (d *Decoder) plainKey() (start, end int, plain bool) {
	start = d.i + 1
	end = start
	for end < len(d.b) && d.b[end] != '"' && d.b[end] != '\\' && d.b[end] >= 0x20 && d.b[end] < utf8.RuneSelf {
		end++
	}
	return start, end, end < len(d.b) && d.b[end] == '"'
}

// key reads an object's key, the next byte being its opening quote, and
// reports whether it was plain (printable ASCII, no escape). want, when not
// "", is a plain key it may be: when the bytes are want and its closing
// quote, want is the key, with no scan and no lookup.
func (d *Decoder) key(want string) (k string, plain, ok bool) {
	if n := d.i + 1 + len(want); want != "" && n < len(d.b) && d.b[n] == '"' && string(d.b[d.i+1:n]) == want {
		d.i = n + 1
		return want, true, true
	}
	start, end, plain := d.plainKey()
	if !plain {
		k, ok = d.str() // escaped, not ASCII, or not a string: the long way
		return k, false, ok
	}
	d.i = end + 1
	if d.skipping {
		return "", true, true
	}
	if k, ok := d.keys[string(d.b[start:end])]; ok {
		return k, true, true
	}
	k = string(d.b[start:end])
	if d.keys == nil {
		d.keys = make(map[string]string)
	}
	if len(d.keys) < maxKeys {
		d.keys[k] = k
	}
	return k, true, true
}

// hintedValue reads the value of the i-th member of a top-level object,
// whose key k was just read (plain: with no escape): prev, when the bytes
// are that string and its quotes, else by Value. It records the member as
// the hint for the next object's i-th.
func (d *Decoder) hintedValue(i int, prev any, k string, plain bool) (any, bool) {
	c := d.Peek()
	if s, _ := prev.(string); s != "" && c == '"' {
		if n := d.i + 1 + len(s); n < len(d.b) && d.b[n] == '"' && string(d.b[d.i+1:n]) == s {
			d.i = n + 1
			if plain {
				d.hints[i].key = k
			}
			return prev, true
		}
	}
	start := d.i
	v, ok := d.Value()
	if !ok {
		return nil, false
	}
	h := hint{}
	if plain {
		h.key = k // its bytes are its text
	}
	// A string as long as its bytes between the quotes has no escape.
	if s, isString := v.(string); isString && len(s) <= maxHintBytes && d.i-start-2 == len(s) {
		h.val = v
	}
	switch {
	case i < len(d.hints):
		d.hints[i] = h
	case i == len(d.hints) && i < maxKeys:
		d.hints = append(d.hints, h)
	}
	return v, true
}

// str reads a string, the next byte being its opening quote.
func (d *Decoder) str() (string, bool) {
	d.i++
	start := d.i
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			if d.skipping {
				return "", true
			}
			return string(d.b[start : d.i-1]), true
		case c == '\\':
			return d.unescape(start)
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			d.i++
		default:
			if !d.rune() {
				return "", false
			}
		}
	}
	return "", false
}

// rune reads one multi-byte UTF-8 sequence; false when it is not valid.
func (d *Decoder) rune() bool {
	r, size := utf8.DecodeRune(d.b[d.i:])
	if r == utf8.RuneError && size == 1 {
		return false
	}
	d.i += size
	return true
}

// unescape reads the rest of a string that holds an escape at d.i, start
// being the position of its first byte, as encoding/json's unquote does: a
// \u escape of a lone surrogate becomes U+FFFD.
func (d *Decoder) unescape(start int) (string, bool) {
	var small [128]byte // most strings: the buffer stays on the stack
	buf := append(small[:0], d.b[start:d.i]...)
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			if d.skipping {
				return "", true
			}
			return string(buf), true
		case c == '\\':
			if d.i+1 >= len(d.b) {
				return "", false
			}
			e := d.b[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", false
				}
				if utf16.IsSurrogate(r) {
					r = d.pair(r)
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", false
			}
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			d.i++
		default:
			at := d.i
			if !d.rune() {
				return "", false
			}
			buf = append(buf, d.b[at:d.i]...)
		}
	}
	return "", false
}

// pair completes the surrogate r with the \u escape that follows it when the
// two make a pair, and is U+FFFD (the escape that follows left unread) when
// they do not.
func (d *Decoder) pair(r rune) rune {
	if len(d.b)-d.i < 6 || d.b[d.i] != '\\' || d.b[d.i+1] != 'u' {
		return utf8.RuneError
	}
	at := d.i
	d.i += 2
	r2, ok := d.hex4()
	if ok {
		if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
			return dec
		}
	}
	d.i = at
	return utf8.RuneError
}

// hex4 reads the four hex digits of a \u escape.
func (d *Decoder) hex4() (rune, bool) {
	if len(d.b)-d.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}
