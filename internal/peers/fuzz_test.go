package peers

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodePage feeds arbitrary bodies to the response decoder, whole and
// under a small cap, and holds its two decoders to the same pages.
func FuzzDecodePage(f *testing.F) {
	row := validRowJSON("m1", "2026-06-01T10:00:00Z")
	for _, seed := range []string{
		`{"memories":[` + row + `],"count":1,"limit":10,"updated_since":null}`,
		`{"memories":[],"count":0,"limit":10,"scope_status":"no_allowlist_default_deny","excluded_for_scope":3,"excluded_for_scope_private":0,"next_since":null}`,
		`{"scope_status":"scoped","next_since":"2026-06-01T10:00:00Z","memories":[` + row + `,` + row + `,[1],null,"x"],"x":{"y":[]}}`,
		`{"memories":[{"id":"a"`,
		`{"memories":null}`,
		`{"memories":[],"memories":[]}`,
		`{"memories":[],"limit":-3}`,
		`{"memories":[]} trailing`,
		`[]`, ``, `<html>`, "{\"memories\":[{\"id\":\"\xff\"}]}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := decodePage(bytes.NewReader(body), 10)
		if err == nil {
			page.DecodeRows()
		}
		checkDecoded(t, body, page, err)
		agreeWithStream(t, body)
		const max = 64
		_, err = decodePage(&capReader{r: bytes.NewReader(body), left: max, max: max}, 10)
		if len(body) > max && !errors.Is(err, ErrBadResponse) {
			t.Fatalf("body of %d bytes over a cap of %d: error %v, want ErrBadResponse", len(body), max, err)
		}
	})
}

func checkDecoded(t *testing.T, body []byte, page *Page, err error) {
	t.Helper()
	if err != nil {
		bad, unavailable := errors.Is(err, ErrBadResponse), errors.Is(err, ErrUnavailable)
		if bad == unavailable {
			t.Fatalf("error %v: bad response %v, unavailable %v; want exactly one", err, bad, unavailable)
		}
		if unavailable && json.Valid(body) {
			t.Fatalf("a complete JSON body called cut short: %v", err)
		}
		return
	}
	if !json.Valid(body) {
		t.Fatal("accepted a body that is not JSON")
	}
	if page.Count != len(page.Rows) || page.Examined() < page.Count || page.Limit < 0 {
		t.Fatalf("page counts: count %d, rows %d, examined %d, limit %d", page.Count, len(page.Rows), page.Examined(), page.Limit)
	}
	for i, r := range page.Rows {
		if !json.Valid(r.Raw) || !bytes.Contains(body, r.Raw) {
			t.Fatalf("row %d: Raw %q is not valid JSON taken from the body", i, r.Raw)
		}
		if r.Invalid == nil && (r.Fields == nil || r.ID == "" || r.Instant.IsZero()) {
			t.Fatalf("row %d: valid but Fields %v, ID %q, Instant %v", i, r.Fields, r.ID, r.Instant)
		}
	}
}
