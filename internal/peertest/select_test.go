package peertest

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/watermark"
)

const (
	tZ    = "2026-06-01T10:00:05Z"        // the earlier instant, sorts after tFrac as text
	tFrac = "2026-06-01T10:00:05.5+00:00" // the later instant, sorts before tZ as text
	t06   = "2026-06-01T10:00:06Z"
)

func TestSinceComparesText(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"no since: text order", q(), []string{"frac", "z", "six"}},
		{"after the later instant comes the earlier one", q("since", tFrac), []string{"z", "six"}},
		{"after the earlier instant the later one is gone", q("since", tZ), []string{"six"}},
		{"strictly greater", q("since", t06), []string{}},
	}
	s, ts := NewHTTPTest(t)
	s.Put(stamped("z", tZ))
	s.Put(stamped("frac", tFrac))
	s.Put(stamped("six", t06))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(t, envelopeOf(t, get(t, ts, tt.query, nil)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPutKeepsLatestVersion(t *testing.T) {
	s := New()
	s.Put(stamped("a", t06))
	s.Put(stamped("a", tZ)) // an older instant still replaces: the peer holds what was written last
	rows := s.Rows()
	if len(rows) != 1 || rows[0].UpdatedAt != tZ {
		t.Fatalf("Rows() = %+v, want one row at %s", rows, tZ)
	}
}

func TestLimitCutsTieGroupsAndShuffles(t *testing.T) {
	s, ts := NewHTTPTest(t)
	for i := range 6 {
		s.Put(stamped(fmt.Sprintf("tie-%d", i), tZ))
	}
	s.Put(stamped("after", t06))
	seen := map[string]bool{}
	for range 20 {
		env := envelopeOf(t, get(t, ts, q("limit", "3"), nil))
		got := ids(t, env)
		if len(got) != 3 {
			t.Fatalf("page %v, want 3 rows of the tie group", got)
		}
		for _, id := range got {
			if id == "after" {
				t.Fatalf("page %v holds a row after the tie group", got)
			}
			seen[id] = true
		}
		if env["next_since"] != nil {
			t.Errorf("next_since = %v on a full page that is one tie group, want null", env["next_since"])
		}
	}
	if len(seen) < 5 {
		t.Errorf("20 pages of 3 showed only %d of 6 tied rows: ties are not shuffled", len(seen))
	}
}

func TestTieOrderIsSeeded(t *testing.T) {
	pages := func(seed int64) [][]string {
		s, ts := NewHTTPTest(t, WithSeed(seed))
		for i := range 8 {
			s.Put(stamped(fmt.Sprintf("tie-%d", i), tZ))
		}
		var out [][]string
		for range 3 {
			out = append(out, ids(t, envelopeOf(t, get(t, ts, q(), nil))))
		}
		return out
	}
	if diff := cmp.Diff(pages(7), pages(7)); diff != "" {
		t.Errorf("same seed, different orders (-first +second):\n%s", diff)
	}
	if slices.EqualFunc(pages(7), pages(8), slices.Equal) {
		t.Errorf("seeds 7 and 8 gave the same orders")
	}
}

func TestFilterRunsAfterLimit(t *testing.T) {
	s, ts := NewHTTPTest(t, WithScope(func(r Row) Scope {
		switch r.ID {
		case "r2":
			return Hidden
		case "r3":
			return HiddenPrivate
		}
		return Visible
	}))
	for i := 1; i <= 6; i++ {
		s.Put(stamped(fmt.Sprintf("r%d", i), fmt.Sprintf("2026-06-01T10:00:0%dZ", i)))
	}
	env := envelopeOf(t, get(t, ts, q("limit", "4"), nil))
	got := map[string]any{
		"ids": ids(t, env), "count": env["count"], "excluded_for_scope": env["excluded_for_scope"],
		"excluded_for_scope_private": env["excluded_for_scope_private"], "scope_status": env["scope_status"],
		"latest_updated_at": env["latest_updated_at"], "next_since": env["next_since"],
	}
	want := map[string]any{
		"ids": []string{"r1", "r4"}, "count": 2.0, "excluded_for_scope": 1.0,
		"excluded_for_scope_private": 1.0, "scope_status": StatusScoped,
		"latest_updated_at": "2026-06-01T10:00:04Z", "next_since": "2026-06-01T10:00:03Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
}

func TestFullyFilteredPageStillMovesNextSince(t *testing.T) {
	s, ts := NewHTTPTest(t, WithScope(HideIf(func(Row) bool { return true })),
		WithScopeStatus(StatusDefaultDeny))
	s.Put(stamped("a", tZ))
	s.Put(stamped("b", t06))
	env := envelopeOf(t, get(t, ts, q("since", tFrac), nil))
	want := map[string]any{"count": 0.0, "excluded_for_scope": 2.0, "next_since": t06,
		"scope_status": StatusDefaultDeny, "latest_updated_at": nil}
	got := map[string]any{"count": env["count"], "excluded_for_scope": env["excluded_for_scope"],
		"next_since": env["next_since"], "scope_status": env["scope_status"], "latest_updated_at": env["latest_updated_at"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
}

func TestV06DoesNotFilter(t *testing.T) {
	s, ts := NewHTTPTest(t, WithGeneration(V06), WithScope(HideIf(func(Row) bool { return true })))
	s.Put(stamped("a", tZ))
	if got := ids(t, envelopeOf(t, get(t, ts, q(), nil))); !slices.Equal(got, []string{"a"}) {
		t.Errorf("v0.6 page %v, want [a]: v0.6 servers do not scope", got)
	}
}

func TestLimits(t *testing.T) {
	s, ts := NewHTTPTest(t)
	s.Load(Backlog(600, 1, 1, false))
	tests := []struct {
		query     string
		wantLimit float64
		wantCount float64
	}{
		{q(), watermark.DefaultLimit, 500},
		{q("limit", "7"), 7, 7},
		{q("limit", "20000"), watermark.MaxLimit, 600},
		{q("limit", "0"), 0, 0},
	}
	for _, tt := range tests {
		env := envelopeOf(t, get(t, ts, tt.query, nil))
		if env["limit"] != tt.wantLimit || env["count"] != tt.wantCount {
			t.Errorf("%q: limit %v count %v, want %v %v", tt.query, env["limit"], env["count"], tt.wantLimit, tt.wantCount)
		}
		if tt.wantCount == 0 && env["next_since"] != nil {
			t.Errorf("%q: next_since %v on an empty page, want null", tt.query, env["next_since"])
		}
	}
}

func TestNextSince(t *testing.T) {
	tests := []struct {
		name  string
		stamp []string // of the rows, in text order
		limit string
		want  any
	}{
		{"partial page: last examined", []string{tZ, t06}, "5", t06},
		{"full page, last in a group: below the group", []string{tFrac, tZ, tZ, t06}, "3", tFrac},
		{"full page of distinct stamps: below the last", []string{tFrac, tZ, t06}, "3", tZ},
		{"full page of one group: none", []string{tZ, tZ, tZ}, "2", nil},
		{"nothing after since: none", nil, "5", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := NewHTTPTest(t)
			for i, at := range tt.stamp {
				s.Put(stamped(fmt.Sprint(i), at))
			}
			env := envelopeOf(t, get(t, ts, q("limit", tt.limit), nil))
			if env["next_since"] != tt.want {
				t.Errorf("next_since = %v, want %v", env["next_since"], tt.want)
			}
		})
	}
}

func TestBrokenRowsServedVerbatim(t *testing.T) {
	s, ts := NewHTTPTest(t)
	raw := `{"id":"w","updated_at":"2026-06-01T10:00:05Z","priority":"high","x_unknown":{"k":[1,2]}}`
	s.PutRaw([]byte(raw))
	s.PutRaw([]byte(`42`))
	r := get(t, ts, q(), nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	want := `"memories":[42,` + raw + `]`
	if !contains(r.body, want) {
		t.Errorf("body %s\ndoes not hold %s", r.body, want)
	}
}

func TestRowsKeepTheirBytes(t *testing.T) {
	s, ts := NewHTTPTest(t)
	raw := `{ "id" : "h", "updated_at":"2026-06-01T10:00:05Z", "content":"<b>&</b>", "n": 1.50 }`
	s.PutRaw([]byte(raw))
	r := get(t, ts, q(), nil)
	if want := `"memories":[` + raw + `]`; !contains(r.body, want) {
		t.Errorf("body %s\ndoes not hold %s", r.body, want)
	}
}

// A page cap cuts larger limits to it and echoes the cap, as a v1 server's
// max_page_size does; smaller limits pass untouched.
func TestPageCap(t *testing.T) {
	s, ts := NewHTTPTest(t, WithPageCap(100))
	s.Load(Backlog(300, 1, 1, false))
	for _, tt := range []struct {
		query                string
		wantLimit, wantCount float64
	}{
		{q("limit", "1000"), 100, 100},
		{q("limit", "40"), 40, 40},
		{q(), 100, 100},
	} {
		env := envelopeOf(t, get(t, ts, tt.query, nil))
		if env["limit"] != tt.wantLimit || env["count"] != tt.wantCount {
			t.Errorf("%q: limit %v count %v, want %v %v", tt.query, env["limit"], env["count"], tt.wantLimit, tt.wantCount)
		}
	}
}
