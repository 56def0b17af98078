package ddbstore

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func digestOf(t *testing.T, row string) string {
	t.Helper()
	av, err := toAttr(decodeRow(t, row))
	if err != nil {
		t.Fatal(err)
	}
	return digest(av.(*types.AttributeValueMemberM).Value)
}

// TestDigestGolden pins the encoding: replicas running different builds
// must pick the same winner of a tie, so changing it is a migration.
func TestDigestGolden(t *testing.T) {
	got := digestOf(t, `{"id":"m1","updated_at":"2026-06-01T10:00:05Z","content":"hello",
		"tags":["a","b"],"priority":5,"metadata":{"x":null,"y":true,"z":[1.5,{}]}}`)
	const want = "13d927e071e2e55f3f26c24781b7c52424c60b3adafeb1c4f0e4ea2f5b453c52" // also computed by an independent Python encoder
	if got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
}

func TestDigestIgnoresKeyOrderAndSpacing(t *testing.T) {
	a := digestOf(t, `{"a":1,"b":{"c":"d","e":[1,2]},"f":null}`)
	for range 50 { // map iteration order is random on every pass
		b := digestOf(t, `{ "f" : null , "b" : { "e" : [ 1 , 2 ] , "c" : "d" } , "a" : 1 }`)
		if a != b {
			t.Fatalf("same row, different digests: %s, %s", a, b)
		}
	}
}

func TestDigestDistinguishes(t *testing.T) {
	pairs := [][2]string{
		{`{"a":"1"}`, `{"a":1}`},
		{`{"a":[]}`, `{"a":{}}`},
		{`{"ab":"c"}`, `{"a":"bc"}`},
		{`{"a":["b","c"]}`, `{"a":["bc"]}`},
		{`{"a":[["b"],"c"]}`, `{"a":[["b","c"]]}`},
		{`{"a":{"b":"c","d":"e"}}`, `{"a":{"b":"c"},"d":"e"}`},
		{`{"a":null}`, `{"a":false}`},
		{`{"a":false}`, `{"a":true}`},
		{`{"a":""}`, `{}`},
		{`{"a":1.0}`, `{"a":1}`},
		{`{"updated_at":"2026-06-01T10:00:05Z"}`, `{"updated_at":"2026-06-01T10:00:05.000+00:00"}`},
	}
	for _, p := range pairs {
		if a, b := digestOf(t, p[0]), digestOf(t, p[1]); a == b {
			t.Errorf("%s and %s share digest %s", p[0], p[1], a)
		}
	}
}
