package peers

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aimemory/catchup/internal/row"
)

// agreeWithStream checks decodeBody against decodeStream, the decoder of
// record, on one body: a page decodeBody takes is the page decodeStream
// decodes (and fails checkExamined as decodeStream fails), and a body
// decodeStream takes, decodeBody takes too unless it holds invalid UTF-8
// (which encoding/json rewrites, and decodeBody leaves to it).
func agreeWithStream(t *testing.T, body []byte) {
	t.Helper()
	fast, ok := decodeBody(body, 10)
	slow, err := decodeStream(bytes.NewReader(body), 10)
	if ok && err == nil && len(fast.Rows) == len(slow.Rows) {
		for i, r := range fast.Rows { // what the watermark rules read before a row is decoded
			if r.ID != slow.Rows[i].ID || r.UpdatedAt != slow.Rows[i].UpdatedAt {
				t.Fatalf("%q: row %d read as id %q updated_at %q, decoded as %q %q", body, i, r.ID, r.UpdatedAt, slow.Rows[i].ID, slow.Rows[i].UpdatedAt)
			}
		}
	}
	if ok {
		fast.DecodeRows()
		fast = exported(fast)
	}
	switch {
	case ok && err != nil:
		if cerr := checkExamined(fast); cerr == nil || cerr.Error() != err.Error() {
			t.Fatalf("%q: decodeBody took it, decodeStream: %v", body, err)
		}
	case ok && !reflect.DeepEqual(fast, slow):
		t.Fatalf("%q: decodeBody\n%+v\ndecodeStream\n%+v", body, fast, slow)
	case !ok && err == nil && utf8.Valid(body) && !strings.Contains(string(body), strings.Repeat("[", 100)):
		t.Fatalf("%q: decodeStream took it, decodeBody did not", body)
	}
}

// exported is p with each row's exported fields only: how the row came to be
// decoded (scanned first or not) is not what the two decoders must agree on.
func exported(p *Page) *Page {
	c := *p
	c.Rows = make([]row.Row, len(p.Rows))
	for i, r := range p.Rows {
		c.Rows[i] = row.Row{Raw: r.Raw, Fields: r.Fields, ID: r.ID, UpdatedAt: r.UpdatedAt, Instant: r.Instant,
			Invalid: r.Invalid, DuplicateKeys: r.DuplicateKeys}
	}
	return &c
}

// TestBodyDecoderAgreesWithStream: the one-pass decoder and the stream
// decoder give the same page for every kind of body: each generation's
// envelope, rows of every kind (duplicate keys, escapes, not objects,
// invalid UTF-8), and each way an envelope can be wrong.
func TestBodyDecoderAgreesWithStream(t *testing.T) {
	row := validRowJSON("m1", "2026-06-01T10:00:00Z")
	dup := strings.Replace(row, `"tier":"long"`, `"tier":"mid","tier":"long"`, 1)
	esc := strings.Replace(row, `"A title"`, `"A \"title\" \u00e9\ud83d\ude00 \ud800 \/"`, 1)
	bodies := []string{
		`{"memories":[` + row + `],"count":1,"limit":10,"updated_since":null}`,
		`{"memories":[],"count":0,"limit":10,"scope_status":"no_allowlist_default_deny","excluded_for_scope":3,"excluded_for_scope_private":0,"next_since":null}`,
		`{"scope_status":"scoped","next_since":"2026-06-01T10:00:00Z","memories":[` + row + `,` + dup + `,` + esc + `,[1],null,"x",{}],"x":{"y":[]},"x":1}`,
		" \n{ \"memories\" : [ " + row + " , \t" + row + " ] , \"limit\" : 2 }\r\n",
		`{"memories":[` + row + `],"limit":null,"count":null,"scope_status":null,"updated_since":"2026-06-01T10:00:00Z"}`,
		`{"memories":[` + row + `,` + row + `],"limit":1,"excluded_for_scope":5}`,
		"{\"memories\":[{\"id\":\"\xff\"}]}",
		`{"memories":[{"id":"a"`, `{"memories":null}`, `{"memories":[],"memories":[]}`, `{"memories":[],"limit":-3}`,
		`{"memories":[],"limit":1.5}`, `{"memories":[],"count":"1"}`, `{"memories":[],"scope_status":7}`,
		`{"memories":[]} trailing`, `{"memories":[]}{}`, `{"count":1}`, `[]`, ``, `<html>`, `{"memories":[1,]}`,
		`{"memories":[` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `]}`,
	}
	for _, b := range bodies {
		agreeWithStream(t, []byte(b))
	}
}
