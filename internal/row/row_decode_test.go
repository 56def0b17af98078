package row

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeObject takes a one-call path for rows with distinct keys; it must
// agree with the member-by-member decoder on every input.
func TestDecodeObjectPathsAgree(t *testing.T) {
	for _, raw := range []string{
		`{"id":"a","n":1.50,"m":{"x":[1,{"y":":"}]},"t":["a:b","c\"d:"]}`,
		`{"id":"a","id":"b"}`,
		`{"id":"a","\u0069d":"b"}`,
		`{"a\\":1,"a\\\"":2,"k":"\\\\:"}`,
		`{"m":{"a":1,"a":2}}`,
		`{}`,
		`{"a":1} {"b":2}`,
		`{"a":1}  `,
		`[1,2]`,
		`null`,
		`"x"`,
		`{"a":`,
		`{"a":1,}`,
	} {
		fast, fastDups, fastErr := decodeObject([]byte(raw))
		slow, slowDups, slowErr := decodeMembers([]byte(raw))
		if diff := cmp.Diff(slow, fast); diff != "" {
			t.Errorf("%s: fields (-members +decodeObject):\n%s", raw, diff)
		}
		if diff := cmp.Diff(slowDups, fastDups); diff != "" {
			t.Errorf("%s: duplicate keys (-members +decodeObject):\n%s", raw, diff)
		}
		if (fastErr == nil) != (slowErr == nil) {
			t.Errorf("%s: error %v, member by member %v", raw, fastErr, slowErr)
		}
	}
}

func TestTopLevelMembers(t *testing.T) {
	for raw, want := range map[string]int{
		`{}`:                        0,
		`{"a":1}`:                   1,
		`{"a:b":"c:d","e":{"f":1}}`: 2,
		`{"a\":":1,"b":[{"c":2}]}`:  2,
		`{"a\\":1,"b":"\\"}`:        2,
	} {
		if got := topLevelMembers([]byte(raw)); got != want {
			t.Errorf("topLevelMembers(%s) = %d, want %d", raw, got, want)
		}
	}
}

// TestScannedRowDecodesAsDecodeRow: a Scanned row is not valid until
// decoded, decodes to what DecodeRow gives (for either id rule), and once
// released is Scanned again with its identity kept.
func TestScannedRowDecodesAsDecodeRow(t *testing.T) {
	for _, strict := range []bool{false, true} {
		for _, raw := range []string{
			validRowJSON("m-1", "2026-06-01T10:00:00Z"),
			validRowJSON("has space", "2026-06-01T10:00:00Z"),
			`{"id":"a","id":"b","updated_at":"2026-06-01T10:00:00Z"}`,
		} {
			want := DecodeRow([]byte(raw), strict)
			r := Scanned([]byte(raw), want.ID, want.UpdatedAt, strict)
			if r.Invalid == nil || r.Fields != nil {
				t.Fatalf("%s: scanned row valid (%v) or with fields", raw, r.Invalid)
			}
			r.Decode()
			got := r
			got.scanned, got.decoded, got.strict = false, false, false
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(Row{}), cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error()) })); diff != "" {
				t.Fatalf("%s strict %v: decoded (-DecodeRow +Decode):\n%s", raw, strict, diff)
			}
			r.Decode() // twice is once
			if r.Fields == nil && want.Fields != nil {
				t.Fatalf("%s: a second Decode lost the fields", raw)
			}
			r.Release()
			if r.Invalid == nil || r.Fields != nil || r.ID != want.ID || r.UpdatedAt != want.UpdatedAt || string(r.Raw) != raw {
				t.Fatalf("%s: released row %+v", raw, r)
			}
			if r.Decode(); r.Invalid == nil != (want.Invalid == nil) {
				t.Fatalf("%s: decoded again: %v, want %v", raw, r.Invalid, want.Invalid)
			}
		}
	}
	plain := DecodeRow([]byte(validRowJSON("m-1", "2026-06-01T10:00:00Z")), true)
	kept := plain
	kept.Decode()
	kept.Release()
	if kept.Fields == nil || kept.Invalid != nil {
		t.Fatal("Decode or Release changed a row that was not Scanned")
	}
}
