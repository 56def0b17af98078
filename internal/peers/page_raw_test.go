package peers

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// Each Raw is exactly its element's bytes, whatever the white space around
// it and however the body arrives, and a row with a key twice is still seen.
func TestPageRawIsEachElementsBytes(t *testing.T) {
	a := validRowJSON("a", "2026-06-01T10:00:00Z")
	dup := strings.Replace(validRowJSON("d", "2026-06-01T10:00:01Z"), `"tier":"long"`, `"tier":"mid","tier":"long"`, 1)
	elems := []string{a, `{ "x" : [ 1 , {"y":"]}"} ] }`, dup, `"s\"]"`, `12.50`}
	body := "{\"scope_status\":\"ok\",\"memories\":[ \n" + strings.Join(elems, " ,\n\t") + "\r\n] , \"count\":5}"
	for _, reader := range []struct {
		how string
		rd  io.Reader
	}{{"whole", strings.NewReader(body)}, {"one byte at a time", iotest.OneByteReader(strings.NewReader(body))}} {
		page, err := decodePage(reader.rd, 10)
		if err != nil {
			t.Fatal(reader.how, err)
		}
		page.DecodeRows()
		if len(page.Rows) != len(elems) {
			t.Fatalf("%s: %d rows, want %d", reader.how, len(page.Rows), len(elems))
		}
		for i, want := range elems {
			if got := string(page.Rows[i].Raw); got != want {
				t.Errorf("%s: row %d Raw %q, want %q", reader.how, i, got, want)
			}
		}
		if page.Rows[0].Invalid != nil || page.Rows[0].ID != "a" {
			t.Errorf("%s: row 0: %v %q", reader.how, page.Rows[0].Invalid, page.Rows[0].ID)
		}
		if d := page.Rows[2]; len(d.DuplicateKeys) != 1 || d.DuplicateKeys[0] != "tier" || d.Fields["tier"] != "long" {
			t.Errorf("%s: row 2: dups %v tier %v", reader.how, d.DuplicateKeys, d.Fields["tier"])
		}
		for _, i := range []int{3, 4} {
			if page.Rows[i].Invalid == nil || page.Rows[i].Fields != nil {
				t.Errorf("%s: row %d not an object but %v %v", reader.how, i, page.Rows[i].Invalid, page.Rows[i].Fields)
			}
		}
	}
}
