package peers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/aimemory/catchup/internal/row"
)

// pageSummary is what a test compares of a page: everything but the rows'
// decoded contents, which other tests check.
type pageSummary struct {
	IDs                                  []string
	Count, Limit, Examined               int
	ExcludedForScope, ExcludedPrivate    int
	ScopeStatus, NextSince, UpdatedSince string
}

func summarize(p *Page) pageSummary {
	s := pageSummary{
		Count: p.Count, Limit: p.Limit, Examined: p.Examined(),
		ExcludedForScope: p.ExcludedForScope, ExcludedPrivate: p.ExcludedForScopePrivate,
		ScopeStatus: p.ScopeStatus, NextSince: p.NextSince, UpdatedSince: p.UpdatedSince,
	}
	for _, r := range p.Rows {
		s.IDs = append(s.IDs, r.ID)
	}
	return s
}

func TestFetchEnvelopeGenerations(t *testing.T) {
	// Six rows after the watermark; LIMIT 4 examines a..d, of which b is
	// cut for scope and c as private: the page holds 2 rows but is full.
	since := "2026-06-01T10:00:00Z"
	tests := []struct {
		gen  generation
		want pageSummary
	}{
		{v06, pageSummary{IDs: []string{"a", "b", "c", "d"}, Count: 4, Limit: 4, Examined: 4, UpdatedSince: since}},
		{v07, pageSummary{IDs: []string{"a", "d"}, Count: 2, Limit: 4, Examined: 4, ExcludedForScope: 1,
			ExcludedPrivate: 1, ScopeStatus: "scoped", UpdatedSince: since}},
		{newest, pageSummary{IDs: []string{"a", "d"}, Count: 2, Limit: 4, Examined: 4, ExcludedForScope: 1,
			ExcludedPrivate: 1, ScopeStatus: "scoped", NextSince: "2026-06-01T10:00:04Z", UpdatedSince: since}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.gen), func(t *testing.T) {
			f, srv := newFakePeer(t, tt.gen)
			f.add("old", "2026-06-01T09:00:00Z", 0)
			f.add("a", "2026-06-01T10:00:01Z", 0)
			scopeB, scopeC := 1, 2
			if tt.gen == v06 {
				scopeB, scopeC = 0, 0 // v0.6 does not filter
			}
			f.add("c", "2026-06-01T10:00:03Z", scopeC)
			f.add("b", "2026-06-01T10:00:02Z", scopeB)
			f.add("d", "2026-06-01T10:00:04Z", 0)
			f.add("e", "2026-06-01T10:00:05Z", 0)
			c, _ := testClient(Config{})
			page, err := c.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL}, since, 4)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(page)); diff != "" {
				t.Errorf("page (-want +got):\n%s", diff)
			}
			page.DecodeRows()
			for _, r := range page.Rows {
				if r.Invalid != nil {
					t.Errorf("row %s: invalid: %v", r.ID, r.Invalid)
				}
			}
		})
	}
}

func TestDecodePage(t *testing.T) {
	row := validRowJSON("m1", "2026-06-01T10:00:00Z")
	tests := []struct {
		name    string
		body    string
		want    pageSummary
		wantErr error
	}{
		{"null next_since and timestamps", `{"memories":[],"count":0,"limit":10,"next_since":null,"earliest_updated_at":null,"scope_status":"no_allowlist_default_deny","excluded_for_scope":0,"excluded_for_scope_private":0}`,
			pageSummary{Limit: 10, ScopeStatus: "no_allowlist_default_deny"}, nil},
		{"limit absent: the asked one", `{"memories":[` + row + `]}`,
			pageSummary{IDs: []string{"m1"}, Count: 1, Limit: 7, Examined: 1}, nil},
		{"unknown keys ignored", `{"a":{"b":[1,{"c":null}]},"memories":[],"zz":"x","limit":3,"has_more":true}`,
			pageSummary{Limit: 3}, nil},
		{"count is not trusted over rows", `{"memories":[` + row + `],"count":5}`,
			pageSummary{IDs: []string{"m1"}, Count: 1, Limit: 7, Examined: 1}, nil},
		{"trailing white space", "{\"memories\":[]}\r\n\t ", pageSummary{Limit: 7}, nil},
		{"server caps the limit", `{"memories":[],"limit":10000}`, pageSummary{Limit: 10000}, nil},
		{"empty body", ``, pageSummary{}, ErrBadResponse},
		{"not JSON", `<html><body>502 Bad Gateway</body></html>`, pageSummary{}, ErrBadResponse},
		{"top-level array", `[{"memories":[]}]`, pageSummary{}, ErrBadResponse},
		{"top-level string", `"memories"`, pageSummary{}, ErrBadResponse},
		{"no memories", `{"error":"database is locked"}`, pageSummary{}, ErrBadResponse},
		{"memories null", `{"memories":null}`, pageSummary{}, ErrBadResponse},
		{"memories object", `{"memories":{"id":"a"}}`, pageSummary{}, ErrBadResponse},
		{"memories twice", `{"memories":[],"memories":[]}`, pageSummary{}, ErrBadResponse},
		{"limit a string", `{"memories":[],"limit":"10"}`, pageSummary{}, ErrBadResponse},
		{"count negative", `{"memories":[],"count":-1}`, pageSummary{}, ErrBadResponse},
		{"excluded fractional", `{"memories":[],"excluded_for_scope":1.5}`, pageSummary{}, ErrBadResponse},
		{"excluded fill the limit", `{"memories":[` + row + `],"limit":3,"excluded_for_scope":1,"excluded_for_scope_private":1}`,
			pageSummary{IDs: []string{"m1"}, Count: 1, Limit: 3, ExcludedForScope: 1, ExcludedPrivate: 1, Examined: 3}, nil},
		{"excluded over the limit", `{"memories":[],"limit":10,"excluded_for_scope":11}`, pageSummary{}, ErrBadResponse},
		{"excluded and rows over the limit", `{"memories":[` + row + `],"limit":2,"excluded_for_scope":1,"excluded_for_scope_private":1}`, pageSummary{}, ErrBadResponse},
		{"excluded sum overflows", `{"memories":[` + row + `],"limit":10,"excluded_for_scope":9223372036854775807,"excluded_for_scope_private":9223372036854775807}`, pageSummary{}, ErrBadResponse},
		{"excluded sum overflows under a huge limit", `{"memories":[],"limit":9223372036854775807,"excluded_for_scope":9223372036854775807,"excluded_for_scope_private":2}`, pageSummary{}, ErrBadResponse},
		{"next_since a number", `{"memories":[],"next_since":20260601}`, pageSummary{}, ErrBadResponse},
		{"data after the object", `{"memories":[]} {"memories":[]}`, pageSummary{}, ErrBadResponse},
		{"garbage after the object", `{"memories":[]}x`, pageSummary{}, ErrBadResponse},
		{"syntax error inside", `{"memories":[{"id":"a",}]}`, pageSummary{}, ErrBadResponse},
		{"cut inside a row", `{"memories":[{"id":"a"`, pageSummary{}, ErrUnavailable},
		{"cut after a key", `{"memories"`, pageSummary{}, ErrUnavailable},
		{"cut before the closing brace", `{"memories":[]`, pageSummary{}, ErrUnavailable},
		{"cut after the opening brace", `{`, pageSummary{}, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := decodePage(strings.NewReader(tt.body), 7)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				if errors.Is(err, ErrBadResponse) == errors.Is(err, ErrUnavailable) {
					t.Errorf("error %v is not in exactly one class", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, summarize(page)); diff != "" {
				t.Errorf("page (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRowsKeptExact(t *testing.T) {
	// Odd spacing, escapes, a number too big for float64 and fields of a
	// newer server: all must survive byte for byte in Raw and in Fields.
	row := `{ "id" : "m\u002d1", "valid_from":"2026-01-01T00:00:00Z" ,"big":123456789012345678901234567890,` +
		`"x_new":{"deep":[1.50,"\u00e9",true,null]},"tier":"mid","namespace":"n","title":"t","content":"c",` +
		`"tags":[],"priority":1,"confidence":1e-1,"source":"cli","access_count":0,` +
		`"created_at":"2026-01-01 00:00:00z","updated_at":"2026-06-01t10:00:00.123456789012+02:00"}`
	body := "{\"memories\" : [ " + row + " ,\n" + `[1,2]` + ", null]}"
	page, err := decodePage(strings.NewReader(body), 10)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(page.Rows) != 3 {
		t.Fatalf("%d rows, want 3", len(page.Rows))
	}
	page.DecodeRows()
	r := page.Rows[0]
	if string(r.Raw) != row {
		t.Errorf("Raw changed:\n got %s\nwant %s", r.Raw, row)
	}
	if r.Invalid != nil {
		t.Fatalf("Invalid: %v", r.Invalid)
	}
	wantFields := map[string]any{
		"big":   json.Number("123456789012345678901234567890"),
		"x_new": map[string]any{"deep": []any{json.Number("1.50"), "é", true, nil}},
		"id":    "m-1", "valid_from": "2026-01-01T00:00:00Z", "confidence": json.Number("1e-1"),
	}
	for k, want := range wantFields {
		if diff := cmp.Diff(want, r.Fields[k]); diff != "" {
			t.Errorf("Fields[%q] (-want +got):\n%s", k, diff)
		}
	}
	if r.ID != "m-1" || r.UpdatedAt != "2026-06-01t10:00:00.123456789012+02:00" {
		t.Errorf("ID %q UpdatedAt %q", r.ID, r.UpdatedAt)
	}
	if want := "2026-06-01T08:00:00.123456789Z"; r.Instant.UTC().Format("2006-01-02T15:04:05.999999999Z07:00") != want {
		t.Errorf("Instant %v, want %s", r.Instant, want)
	}
	for i, want := range []string{"[1,2]", "null"} {
		got := page.Rows[i+1]
		if string(got.Raw) != want || got.Invalid == nil || got.Fields != nil {
			t.Errorf("row %d: Raw %s Invalid %v Fields %v; want kept as %s, invalid, no fields", i+1, got.Raw, got.Invalid, got.Fields, want)
		}
	}
}

func TestDecodeStrictIDOnlyFromV07(t *testing.T) {
	row := validRowJSON("has space", "2026-06-01T10:00:00Z")
	for _, tt := range []struct {
		envelope string
		valid    bool
	}{
		{`{"memories":[` + row + `]}`, true},
		{`{"memories":[` + row + `],"scope_status":null}`, true},
		{`{"memories":[` + row + `],"scope_status":"legacy_bypass"}`, false},
		{`{"scope_status":"scoped","memories":[` + row + `]}`, false},
	} {
		page, err := decodePage(strings.NewReader(tt.envelope), 10)
		if err != nil {
			t.Fatalf("decode %s: %v", tt.envelope, err)
		}
		page.DecodeRows()
		if got := page.Rows[0].Invalid == nil; got != tt.valid {
			t.Errorf("%s: valid %v (%v), want %v", tt.envelope, got, page.Rows[0].Invalid, tt.valid)
		}
	}
}

func TestDecodeDuplicateKeysKeepLast(t *testing.T) {
	raw := strings.Replace(validRowJSON("m1", "2026-06-01T10:00:00Z"), `"priority":5`, `"priority":50,"priority":5,"priority":6`, 1)
	raw = strings.Replace(raw, `"tier":"long"`, `"tier":"x","tier":"long"`, 1)
	r := row.DecodeRow(json.RawMessage(raw), true)
	if r.Invalid != nil {
		t.Fatalf("Invalid: %v", r.Invalid)
	}
	if diff := cmp.Diff([]string{"tier", "priority"}, r.DuplicateKeys, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("DuplicateKeys (-want +got):\n%s", diff)
	}
	if got := r.Fields["priority"]; got != json.Number("6") {
		t.Errorf("priority %v, want the last value 6", got)
	}
	if string(r.Raw) != raw {
		t.Errorf("Raw changed")
	}
}

func TestDecodeInvalidUTF8Row(t *testing.T) {
	raw := strings.Replace(validRowJSON("m1", "2026-06-01T10:00:00Z"), "A title", "A \xff title", 1)
	r := row.DecodeRow(json.RawMessage(raw), false)
	if r.Invalid == nil || !strings.Contains(r.Invalid.Error(), "UTF-8") {
		t.Errorf("Invalid %v, want a UTF-8 error", r.Invalid)
	}
	if r.ID != "m1" || !r.Instant.IsZero() {
		t.Errorf("ID %q Instant %v: want the id kept and no instant", r.ID, r.Instant)
	}
}

func TestFetchBodyCap(t *testing.T) {
	page := `{"memories":[` + validRowJSON("m1", "2026-06-01T10:00:00Z") + `],"pad":"`
	body := func(n int) string { return page + strings.Repeat("x", n-len(page)-2) + `"}` }
	const max = 2000
	tests := []struct {
		name    string
		size    int
		chunked bool
		wantErr error
	}{
		{"exactly the cap", max, false, nil},
		{"exactly the cap, chunked", max, true, nil},
		{"one byte over", max + 1, false, ErrBadResponse},
		{"one byte over, chunked", max + 1, true, ErrBadResponse},
		{"far over, chunked", 50 * max, true, ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakePeer(t, v07)
			f.hook = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				b := body(tt.size)
				if !tt.chunked {
					w.Header().Set("Content-Length", fmt.Sprint(len(b)))
				}
				w.WriteHeader(http.StatusOK)
				for i := 0; i < len(b); i += 512 {
					fmt.Fprint(w, b[i:min(i+512, len(b))])
					w.(http.Flusher).Flush()
				}
				return true
			}
			c, _ := testClient(Config{MaxBody: max})
			_, err := c.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL}, "", 10)
			checkErr(t, err, tt.wantErr)
			if err != nil && !strings.Contains(err.Error(), "exceeds 2000 bytes") {
				t.Errorf("error %q does not name the cap", err)
			}
			if err != nil && !errors.Is(err, ErrTooLarge) {
				t.Errorf("error %q is not ErrTooLarge", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n)
			}
		})
	}
}
