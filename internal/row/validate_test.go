package row

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// validFields is a row that breaks no rule, decoded as Fetch decodes it.
func validFields(t *testing.T) map[string]any {
	t.Helper()
	r := decodeRow(json.RawMessage(validRowJSON("mem-1", "2026-06-01T10:00:00Z")), true)
	if r.Invalid != nil {
		t.Fatalf("the valid row is invalid: %v", r.Invalid)
	}
	return r.Fields
}

func nested(depth int) any {
	var v any = map[string]any{}
	for i := 1; i < depth; i++ {
		v = map[string]any{"k": v}
	}
	return v
}

func TestValidateFields(t *testing.T) {
	const deleteField = "<delete>"
	tests := []struct {
		field   string
		value   any // deleteField removes the field
		strict  bool
		wantErr string // "" = valid
	}{
		// id
		{"id", deleteField, false, "id: missing"},
		{"id", json.Number("7"), false, "id: a JSON number, want a string"},
		{"id", "  ", false, "id: empty"},
		{"id", strings.Repeat("a", 128), true, ""},
		{"id", strings.Repeat("a", 129), false, "id: 129 bytes, at most 128"},
		{"id", "a\x01b", false, `id: "a\x01b" holds a control character`},
		{"id", "a b/c", false, ""},
		{"id", "a b", true, `id: "a b" holds ' '; v0.7+ allows only A-Za-z0-9_:.@-`},
		{"id", "a..b", true, `id: "a..b" holds ".."`},
		{"id", "user@host:ns.x_y-1", true, ""},
		// timestamps
		{"updated_at", deleteField, false, "updated_at: missing"},
		{"updated_at", "yesterday", false, `updated_at: "yesterday" is not an RFC 3339 timestamp`},
		{"updated_at", "2026-06-01 10:00:00.5z", false, ""},
		{"updated_at", "2026-06-30T23:59:60.5+00:00", true, ""}, // a leap second, as chrono accepts
		{"updated_at", "2026-06-30T23:59:61Z", false, `updated_at: "2026-06-30T23:59:61Z" is not an RFC 3339 timestamp`},
		{"created_at", json.Number("1"), false, "created_at: a JSON number, want a string"},
		{"created_at", "2026-13-01T10:00:00Z", false, `created_at: "2026-13-01T10:00:00Z" is not an RFC 3339 timestamp`},
		// tier, source
		{"tier", "medium", false, `tier: "medium" is not one of short mid long`},
		{"tier", "short", false, ""},
		{"source", "email", false, `source: "email" is not one of user claude hook api cli import consolidation system chaos notify nhi`},
		{"source", "nhi", false, ""},
		// namespace
		{"namespace", "", false, "namespace: empty"},
		{"namespace", strings.Repeat("n", 512), false, ""},
		{"namespace", strings.Repeat("n", 513), false, "namespace: 513 characters, at most 512"},
		{"namespace", "a b", false, `namespace: "a b" holds a space, '\' or NUL`},
		{"namespace", `a\b`, false, `namespace: "a\\b" holds a space, '\' or NUL`},
		{"namespace", "a\x00b", false, `namespace: "a\x00b" holds a space, '\' or NUL`},
		{"namespace", "/a", false, `namespace: "/a" starts or ends with '/'`},
		{"namespace", "a/", false, `namespace: "a/" starts or ends with '/'`},
		{"namespace", "a//b", false, `namespace: "a//b" has an empty, '.' or '..' segment`},
		{"namespace", "a/./b", false, `namespace: "a/./b" has an empty, '.' or '..' segment`},
		{"namespace", "a/../b", false, `namespace: "a/../b" has an empty, '.' or '..' segment`},
		{"namespace", "1/2/3/4/5/6/7/8", false, ""},
		{"namespace", "1/2/3/4/5/6/7/8/9", false, `namespace: "1/2/3/4/5/6/7/8/9" has 9 segments, at most 8`},
		// title
		{"title", " \n", false, "title: empty"},
		{"title", strings.Repeat("é", 512), false, ""},
		{"title", strings.Repeat("é", 513), false, "title: 513 characters, at most 512"},
		{"title", "a\tb\nc", false, ""},
		{"title", "a\rb", false, "title: holds a control character"},
		{"title", "a\u0085b", false, "title: holds a control character"},
		{"title", nil, false, "title: a JSON null, want a string"},
		// content
		{"content", "", false, "content: empty"},
		{"content", strings.Repeat("x", 65536), false, ""},
		{"content", strings.Repeat("x", 65537), false, "content: 65537 bytes, at most 65536"},
		{"content", "a\x7fb", false, "content: holds a control character"},
		// tags
		{"tags", "a,b", false, "tags: a JSON string, want an array of strings"},
		{"tags", []any{}, false, ""},
		{"tags", make([]any, 51), false, "tags: 51 tags, at most 50"},
		{"tags", []any{"a", json.Number("1")}, false, "tags: element 1: a JSON number, want a string"},
		{"tags", []any{" "}, false, "tags: element 0: empty"},
		{"tags", []any{strings.Repeat("t", 128)}, false, ""},
		{"tags", []any{strings.Repeat("t", 129)}, false, "tags: element 0: 129 bytes, at most 128"},
		{"tags", []any{"a\nb"}, false, "tags: element 0: holds a control character"},
		// priority
		{"priority", json.Number("11"), false, "priority: 11 out of range 1..10"},
		{"priority", json.Number("0"), false, "priority: 0 out of range 1..10"},
		{"priority", json.Number("10"), false, ""},
		{"priority", json.Number("5.0"), false, "priority: 5.0 is not an integer"},
		{"priority", json.Number("1e1"), false, "priority: 1e1 is not an integer"},
		{"priority", json.Number("99999999999999999999"), false, "priority: 99999999999999999999 out of the 64-bit integer range"},
		{"priority", "5", false, "priority: a JSON string, want a number"},
		{"priority", float64(3), false, ""},
		{"priority", 3.5, false, "priority: 3.5 is not an integer"},
		// confidence
		{"confidence", json.Number("0"), false, ""},
		{"confidence", json.Number("1"), false, ""},
		{"confidence", json.Number("1.0000001"), false, "confidence: 1.0000001 out of range 0..1"},
		{"confidence", json.Number("-0.1"), false, "confidence: -0.1 out of range 0..1"},
		{"confidence", json.Number("1e400"), false, "confidence: 1e400 is not finite"},
		{"confidence", true, false, "confidence: a JSON boolean, want a number"},
		// access_count
		{"access_count", json.Number("0"), false, ""},
		{"access_count", json.Number("-1"), false, "access_count: -1 is below 0"},
		{"access_count", json.Number("9223372036854775807"), false, ""},
		// metadata
		{"metadata", deleteField, false, ""},
		{"metadata", nil, false, ""},
		{"metadata", []any{}, false, "metadata: a JSON array, want an object"},
		{"metadata", nested(32), false, ""},
		{"metadata", nested(33), false, "metadata: nested deeper than 32"},
		{"metadata", map[string]any{"k": strings.Repeat("<", 65536-8)}, false, ""},
		{"metadata", map[string]any{"k": strings.Repeat("<", 65536-7)}, false, "metadata: 65537 bytes serialized, at most 65536"},
		// optional timestamps
		{"expires_at", nil, false, ""},
		{"expires_at", json.Number("0"), false, "expires_at: a JSON number, want a string"},
		{"last_accessed_at", "2026-06-01T10:00:00Z", false, ""},
		// unknown fields are never checked
		{"lifecycle_state", []any{json.Number("1")}, true, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%.40v", tt.field, tt.value), func(t *testing.T) {
			fields := validFields(t)
			if tt.value == deleteField {
				delete(fields, tt.field)
			} else {
				fields[tt.field] = tt.value
			}
			got := ""
			if err := ValidateFields(fields, tt.strict); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tt.wantErr, got); diff != "" {
				t.Errorf("ValidateFields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateFieldsNil(t *testing.T) {
	if err := ValidateFields(nil, false); err == nil {
		t.Error("nil fields: no error")
	}
}

// FuzzValidateRow decodes arbitrary bytes as one row under both id rules.
func FuzzValidateRow(f *testing.F) {
	f.Add([]byte(validRowJSON("mem-1", "2026-06-01T10:00:00Z")), true)
	f.Add([]byte(validRowJSON("a b", "2026-06-01 10:00:00.123456789123+05:30")), false)
	f.Add([]byte(strings.Replace(validRowJSON("m", "2026-06-01T10:00:00Z"), `"priority":5`, `"priority":5,"priority":11`, 1)), true)
	f.Add([]byte(`{"id":"x","metadata":{"a":{"b":[[[]]]}}}`), false)
	f.Add([]byte(`[1,2,3]`), true)
	f.Add([]byte(`null`), false)
	f.Add([]byte("{\"id\":\"\xff\"}"), false)
	f.Add([]byte(`{"id":"a"} x`), false)
	f.Fuzz(func(t *testing.T, raw []byte, strict bool) {
		r := decodeRow(json.RawMessage(raw), strict)
		if string(r.Raw) != string(raw) {
			t.Fatal("Raw differs from the input")
		}
		if r.Invalid != nil {
			if !r.Instant.IsZero() {
				t.Fatal("an invalid row has an Instant")
			}
			return
		}
		if !json.Valid(raw) || r.Fields == nil || r.ID == "" || r.Instant.IsZero() {
			t.Fatalf("valid row: json.Valid %v, Fields %v, ID %q, Instant %v", json.Valid(raw), r.Fields, r.ID, r.Instant)
		}
		if strict && decodeRow(json.RawMessage(raw), false).Invalid != nil {
			t.Fatal("valid under the strict id rule but not under the lenient one")
		}
		// What the store keeps (Fields) must validate the same when replayed.
		again, err := json.Marshal(r.Fields)
		if err != nil {
			t.Fatalf("Fields do not marshal: %v", err)
		}
		if rr := decodeRow(again, strict); rr.Invalid != nil || !rr.Instant.Equal(r.Instant) {
			t.Fatalf("replayed fields: Invalid %v, Instant %v, want valid at %v", rr.Invalid, rr.Instant, r.Instant)
		}
	})
}
