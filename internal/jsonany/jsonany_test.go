package jsonany

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// stdDecode is what this package stands in for: encoding/json's Decoder with
// UseNumber, one value and nothing after it but white space.
func stdDecode(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) == 0
}

// agree checks the package's promise on one input: what it accepts,
// encoding/json accepts as the same value; what encoding/json accepts and
// this package must be able to (valid UTF-8, not too deep), it accepts.
func agree(t *testing.T, b []byte) {
	t.Helper()
	got, ok := Decode(b)
	want, stdOK := stdDecode(b)
	switch {
	case ok && !stdOK:
		t.Fatalf("%q: accepted as %#v, encoding/json refuses it", b, got)
	case ok && !reflect.DeepEqual(got, want):
		t.Fatalf("%q: decoded as %#v, encoding/json as %#v", b, got, want)
	case !ok && stdOK && utf8.Valid(b) && nesting(b) <= maxDepth:
		t.Fatalf("%q: refused, encoding/json decodes it as %#v", b, want)
	}
	agreeSkipping(t, b, got, ok)
	agreeReused(t, b, got, ok)
}

// reused is one decoder for every input agree sees, as rows share one: the
// keys and the key order it learnt from the inputs before are hints only.
var reused = NewDecoder(nil)

// agreeReused checks that the reused decoder decodes b as a new one did
// (to v, ok).
func agreeReused(t *testing.T, b []byte, v any, ok bool) {
	t.Helper()
	reused.Reset(b)
	got, gotOK := reused.Value()
	gotOK = gotOK && reused.End()
	if gotOK != ok || ok && !reflect.DeepEqual(got, v) {
		t.Fatalf("%q: a reused decoder gives %#v, %v; a new one %#v, %v", b, got, gotOK, v, ok)
	}
}

// agreeSkipping checks Skip and Strings against Decode on b (which decoded
// to v, ok): the same bytes accepted, and the strings Strings picks out are
// the map's.
func agreeSkipping(t *testing.T, b []byte, v any, ok bool) {
	t.Helper()
	d := NewDecoder(b)
	if skipped := d.Skip() && d.End(); skipped != ok {
		t.Fatalf("%q: Skip %v, Decode %v", b, skipped, ok)
	}
	m, isObject := v.(map[string]any)
	keys := []string{"k", "a", "memory", "é", "\u0041"}
	vals := make([]string, len(keys))
	d = NewDecoder(b)
	if picked := d.Strings(keys, vals) && d.End(); picked != (ok && isObject) {
		t.Fatalf("%q: Strings %v, Decode %v (an object: %v)", b, picked, ok, isObject)
	}
	if !isObject {
		return
	}
	for i, k := range keys {
		if want, _ := m[k].(string); vals[i] != want {
			t.Fatalf("%q: Strings gives %s %q, the map %q", b, k, vals[i], want)
		}
	}
}

// TestSkipBuildsNothing: a row a page skips costs no allocation.
func TestSkipBuildsNothing(t *testing.T) {
	b := []byte(`{"id":"a","n":[1,2.5e3,{"x":null,"y":true}],"s":"café \n","t":["a","b"]}`)
	allocs := testing.AllocsPerRun(100, func() {
		if !NewDecoder(b).Skip() {
			t.Fatal("refused")
		}
	})
	if allocs > 1 { // the decoder itself, if it escapes
		t.Fatalf("Skip allocates %v times", allocs)
	}
}

// nesting is the deepest bracket nesting of b outside strings (an upper
// bound when b is not JSON).
func nesting(b []byte) int {
	deepest, depth, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func TestAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range cases {
		agree(t, []byte(s))
	}
}

// TestHintsAreOnlyHints: each object's keys and string values differ from
// the last one's at a position, by a byte after the expected one, a byte
// short of it, or an escape spelling it; the reused decoder reads what the
// bytes say.
func TestHintsAreOnlyHints(t *testing.T) {
	for _, s := range []string{
		`{"a":1,"b":2}`, `{"a":1,"b":2}`, `{"a":1,"bc":2}`, `{"a":1,"b":2}`, `{"a":1,"":2}`,
		`{"a":1,"b\"":2}`, `{"\u0061":1,"b":2}`, `{"a":1}`, `{"ab":1,"b":2}`, `{"b":1,"a":2}`,
		`{"a":{"b":1,"a":2},"b":[{"a":3}]}`, `{"a":1,"b":2,"c":3}`, `{"a":1,"b":2,"c\u0000":3}`, `{"a":1,"b":2,"c":3,"a":4}`,
		`{"a":"x","b":"é"}`, `{"a":"x","b":"é"}`, `{"a":"xy","b":"é!"}`, `{"a":"x","b":"e"}`, `{"a":"x\"","b":""}`,
		`{"a":"\u0078","b":"é"}`, `{"a":"x"}`, `{"a":"x"}`, `{"a":"\u0078"}`, `{"a":"x","b":"x"}`, `{"b":"x"}`, `{"a":"x"}`,
		`{"a":1,"b":"x"}`, `{"a":"x","b":{"a":"x"}}`, `{"a":"x","a":"y"}`, `{"a":"x"`, `{"a":"x}`, `{"a":"x"}`, `{"a":"x\u0000"}`,
		`{"a":"x\""}`, `{"a":"x""}`, `{"a":"x\\"}`, `{"a":"x\"}`, `{"a":"x\u0000"}`, "{\"a\":\"x\x00\"}",
	} {
		agree(t, []byte(s))
	}
}

// cases are the corners: every escape, surrogates alone and paired, control
// characters, invalid UTF-8, number forms, literals cut short, trailing data,
// duplicate keys, nesting at and past the limit.
var cases = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `truex`, `true false`, `nullnull`,
	`0`, `-0`, `01`, `-`, `1.`, `.5`, `1.5`, `1e5`, `1E+5`, `1e-05`, `1e`, `1e+`, `-1.25e-7`,
	`123456789012345678901234567890`, `1 2`, `+1`, `0x10`, `1.5.5`,
	`""`, `"a"`, `"\"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\u20ac"`, `"\u00"`, `"\uZZZZ"`, `"\x"`, `"\'"`,
	`"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`,
	`"\ud83d\uZZZZ"`, `"\ud83d\`, "\"a\x01\"", "\"a\tb\"", "\"\\u0041\x1f\"", `"unterminated`,
	"\"caf\xc3\xa9\"", "\"bad \xff byte\"", "\"\\n then bad \xc3\"", "\"\u2028\u2029\"",
	`{}`, `{ }`, `[]`, `[ ]`, `{"a":1}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `{"a"}`, `{"a":}`, `{a:1}`,
	`{"a":1,"a":2}`, `{"a":{"b":[1,{"c":null}]},"d":[]}`, `[1,[2,[3,[]]]]`, `{"a":1}}`, `[1]]`,
	" \t\r\n{ \"a\" : [ 1 , 2 ] }\n ", "\v1", `{"\u0061":1,"a":2}`,
	strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
	strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40),
}

// TestAgreesOnGeneratedValues decodes thousands of random values, each as
// generated and with a byte changed, dropped or added.
func TestAgreesOnGeneratedValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 4000 {
		b := []byte(genValue(rng, 0))
		agree(t, b)
		if len(b) == 0 {
			continue
		}
		i := rng.IntN(len(b))
		for _, m := range [][]byte{
			append(append(bytes.Clone(b[:i]), byte(rng.IntN(256))), b[i+1:]...),
			append(bytes.Clone(b[:i]), b[i+1:]...),
			append(append(bytes.Clone(b[:i]), `"\,:[]{}u0`[rng.IntN(10)]), b[i:]...),
			b[:i],
		} {
			agree(t, m)
		}
	}
}

func genValue(rng *rand.Rand, depth int) string {
	ws := func() string { return []string{"", "", " ", "\n\t", "\r "}[rng.IntN(5)] }
	n := rng.IntN(10)
	if depth > 4 {
		n = rng.IntN(6)
	}
	switch n {
	case 0:
		return ws() + "null" + ws()
	case 1:
		return []string{"true", "false"}[rng.IntN(2)]
	case 2, 3:
		return genNumber(rng)
	case 4, 5:
		return genString(rng)
	case 6, 7:
		var b strings.Builder
		b.WriteString("{" + ws())
		for i := range rng.IntN(5) {
			if i > 0 {
				b.WriteString("," + ws())
			}
			key := genString(rng)
			if rng.IntN(4) == 0 {
				key = `"k"` // duplicate keys
			}
			b.WriteString(key + ws() + ":" + genValue(rng, depth+1))
		}
		b.WriteString(ws() + "}")
		return b.String()
	default:
		var b strings.Builder
		b.WriteString("[" + ws())
		for i := range rng.IntN(5) {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(genValue(rng, depth+1))
		}
		b.WriteString("]" + ws())
		return b.String()
	}
}

func genNumber(rng *rand.Rand) string {
	s := []string{"", "-"}[rng.IntN(2)]
	s += []string{"0", "7", "42", "1000000000000000000000"}[rng.IntN(4)]
	if rng.IntN(2) == 0 {
		s += "." + fmt.Sprint(rng.IntN(1000))
	}
	if rng.IntN(3) == 0 {
		s += []string{"e", "E"}[rng.IntN(2)] + []string{"", "+", "-"}[rng.IntN(3)] + fmt.Sprint(rng.IntN(400))
	}
	return s
}

func genString(rng *rand.Rand) string {
	pieces := []string{"a", "memory", " ", "é", "€", "😀", "\u2028", `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`,
		`\u0041`, `\u00e9`, `\u0000`, `\u001f`, `\ud83d\ude00`, `\ud83d`, `\ude00`, `\uD83D\uDE00`, "\xff", "\xc3"}
	var b strings.Builder
	b.WriteByte('"')
	for range rng.IntN(8) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	b.WriteByte('"')
	return b.String()
}

func FuzzAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range cases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { agree(t, b) })
}

// TestObjectReportsDistinctKeys: a row's keys decide whether its fields are
// what the peer meant (a key given twice is reported, not merged silently).
func TestObjectReportsDistinctKeys(t *testing.T) {
	for s, distinct := range map[string]bool{`{}`: true, `{"a":1,"b":{"a":1,"a":2}}`: true, `{"a":1,"b":2,"a":3}`: false} {
		m, d, ok := NewDecoder([]byte(s)).Object()
		if !ok || d != distinct {
			t.Errorf("%s: distinct %v ok %v, want distinct %v", s, d, ok, distinct)
		}
		if want, _ := stdDecode([]byte(s)); !reflect.DeepEqual(any(m), want) {
			t.Errorf("%s: %#v, want %#v", s, m, want)
		}
	}
}

// TestMembersAndElementsWalkInOrder walks an envelope as a page decoder does.
func TestMembersAndElementsWalkInOrder(t *testing.T) {
	walk := func(body []byte) (keys, raws []string, ok bool) {
		d := NewDecoder(body)
		ok = d.Members(func(key string) bool {
			keys = append(keys, key)
			if key != "memories" {
				_, ok := d.Value()
				return ok
			}
			return d.Elements(func() bool {
				start := d.Offset()
				_, ok := d.Value()
				raws = append(raws, string(body[start:d.Offset()]))
				return ok
			})
		})
		return keys, raws, ok && d.End()
	}
	keys, raws, ok := walk([]byte(` {"count": 2, "memories": [ {"id":"a"} , 3 ], "x": null} `))
	if !ok || fmt.Sprint(keys) != "[count memories x]" || fmt.Sprint(raws) != `[{"id":"a"} 3]` {
		t.Fatalf("ok %v, keys %q, rows %q", ok, keys, raws)
	}
	for _, bad := range []string{`{"a":1,}`, `{"memories":[1,]}`, `[1]`, `{"a" 1}`, `{"memories":[1}`, `{"a":1} x`} {
		if _, _, ok := walk([]byte(bad)); ok {
			t.Errorf("%s: walked", bad)
		}
	}
}
