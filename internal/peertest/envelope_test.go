package peertest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnvelopeByGeneration(t *testing.T) {
	base := map[string]any{
		"count": 1.0, "limit": 2.0, "updated_since": tFrac,
		"earliest_updated_at": tZ, "latest_updated_at": tZ,
	}
	v07 := merge(base, map[string]any{
		"excluded_for_scope": 0.0, "excluded_for_scope_private": 0.0, "scope_status": StatusLegacy,
	})
	tests := []struct {
		gen  Generation
		want map[string]any
	}{
		{V06, base},
		{V07, v07},
		{Newest, merge(v07, map[string]any{"next_since": tZ})},
	}
	for _, tt := range tests {
		t.Run(tt.gen.String(), func(t *testing.T) {
			s, ts := NewHTTPTest(t, WithGeneration(tt.gen))
			s.Put(stamped("z", tZ))
			env := envelopeOf(t, get(t, ts, q("since", tFrac, "limit", "2"), nil))
			if _, ok := env["memories"].([]any); !ok {
				t.Fatalf("memories is %T, want an array", env["memories"])
			}
			delete(env, "memories")
			if diff := cmp.Diff(tt.want, env); diff != "" {
				t.Errorf("envelope (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmptyPageEnvelope(t *testing.T) {
	_, ts := NewHTTPTest(t)
	env := envelopeOf(t, get(t, ts, q(), nil))
	want := map[string]any{
		"memories": []any{}, "count": 0.0, "limit": 500.0, "updated_since": nil,
		"earliest_updated_at": nil, "latest_updated_at": nil, "excluded_for_scope": 0.0,
		"excluded_for_scope_private": 0.0, "scope_status": StatusLegacy, "next_since": nil,
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("envelope (-want +got):\n%s", diff)
	}
}

func TestParseGeneration(t *testing.T) {
	for _, g := range []Generation{V06, V07, Newest} {
		got, err := ParseGeneration(g.String())
		if err != nil || got != g {
			t.Errorf("ParseGeneration(%q) = %v, %v", g.String(), got, err)
		}
	}
	if _, err := ParseGeneration("v0.8"); err == nil {
		t.Error("ParseGeneration(v0.8) succeeded")
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
