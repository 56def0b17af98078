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
