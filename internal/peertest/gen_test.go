package peertest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// violations lists the docs/protocol.md §5 rules row breaks (a test's own
// reading of them, for the generators).
func violations(row map[string]any) []string {
	var bad []string
	check := func(ok bool, rule string) {
		if !ok {
			bad = append(bad, rule)
		}
	}
	str := func(k string) string { s, _ := row[k].(string); return s }
	num := func(k string) float64 { f, _ := row[k].(float64); return f }
	id := str("id")
	check(regexp.MustCompile(`^[A-Za-z0-9_:.@-]{1,128}$`).MatchString(id) && !strings.Contains(id, ".."), "id")
	check(text(str("title"), 512), "title")
	check(text(str("content"), 65536), "content")
	ns := str("namespace")
	segs := strings.Split(ns, "/")
	check(ns != "" && len(ns) <= 512 && !strings.ContainsAny(ns, " \\\x00") && len(segs) <= 8 &&
		!slices.ContainsFunc(segs, func(s string) bool { return s == "" || s == "." || s == ".." }), "namespace")
	check(slices.Contains(strings.Fields("user claude hook api cli import consolidation system chaos notify nhi"), str("source")), "source")
	check(slices.Contains([]string{"short", "mid", "long"}, str("tier")), "tier")
	tags, _ := row["tags"].([]any)
	check(len(tags) <= 50, "tags")
	for _, tg := range tags {
		s, _ := tg.(string)
		check(strings.TrimSpace(s) != "" && len(s) <= 128, "tag")
	}
	p := num("priority")
	check(p >= 1 && p <= 10 && p == float64(int(p)), "priority")
	check(num("confidence") >= 0 && num("confidence") <= 1, "confidence")
	check(num("access_count") >= 0, "access_count")
	for _, k := range []string{"created_at", "updated_at"} {
		_, err := parseStamp(str(k))
		check(err == nil, k)
	}
	_, ok := row["metadata"].(map[string]any)
	check(ok, "metadata")
	return bad
}

func text(s string, max int) bool {
	return strings.TrimSpace(s) != "" && len([]rune(s)) <= max &&
		!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
}

// roundTrip is row as a client decodes it.
func roundTrip(t *testing.T, row map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMemoryIsValid(t *testing.T) {
	for i := range 200 {
		row := roundTrip(t, Memory(fmt.Sprintf("m-%d", i), "2026-06-01T10:00:05.5+00:00"))
		if bad := violations(row); len(bad) > 0 {
			t.Errorf("Memory(m-%d) breaks %v", i, bad)
		}
	}
	if violations(map[string]any{"priority": 0}) == nil {
		t.Fatal("the validator accepts anything")
	}
}

func TestBacklog(t *testing.T) {
	for _, mix := range []bool{false, true} {
		t.Run(fmt.Sprint("mix=", mix), func(t *testing.T) {
			rows := Backlog(1000, 5, 7, mix)
			groups := map[string]int{}
			var order []string // first appearance of each stamp
			for _, r := range rows {
				if bad := violations(roundTrip(t, r)); len(bad) > 0 {
					t.Fatalf("row %v breaks %v", r["id"], bad)
				}
				at := r["updated_at"].(string)
				if groups[at] == 0 {
					order = append(order, at)
				}
				groups[at]++
			}
			for i, at := range order {
				if want := min(7, 1000-7*i); groups[at] != want {
					t.Fatalf("group %d (%s) has %d rows, want %d", i, at, groups[at], want)
				}
			}
			inversions := 0
			for i := 1; i < len(order); i++ {
				a, _ := parseStamp(order[i-1])
				b, _ := parseStamp(order[i])
				if !a.Before(b) {
					t.Fatalf("group %d is not after group %d in time", i, i-1)
				}
				if order[i] < order[i-1] {
					inversions++
				}
			}
			if mix != (inversions > 0) {
				t.Errorf("%d text/time inversions between groups, want some only with mixed formats", inversions)
			}
			if diff := fmt.Sprint(Backlog(1000, 5, 7, mix)); diff != fmt.Sprint(rows) {
				t.Error("same arguments, different backlog")
			}
		})
	}
}

func TestBacklogMixesFormats(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Backlog(300, 9, 1, true) {
		at := r["updated_at"].(string)
		frac := 0
		if i := strings.IndexByte(at, '.'); i >= 0 {
			frac = strings.IndexAny(at[i:], "Z+") - 1
		}
		seen[fmt.Sprintf("%d digits %s", frac, at[len(at)-1:])] = true
	}
	for _, want := range []string{"0 digits Z", "3 digits Z", "6 digits 0", "0 digits 0", "1 digits 0", "9 digits Z"} {
		if !seen[want] {
			t.Errorf("no stamp with %s among %v", want, seen)
		}
	}
}

func TestSample(t *testing.T) {
	rows := Sample(40, 1, 3)
	var invalid []string
	keys := map[string]bool{}
	for _, r := range rows {
		r := roundTrip(t, r)
		if bad := violations(r); len(bad) > 0 {
			invalid = append(invalid, fmt.Sprint(r["id"], bad))
		}
		key := r["namespace"].(string) + "|" + r["title"].(string)
		if keys[key] || keys[r["id"].(string)] {
			t.Errorf("duplicate id or (namespace, title): %s", key)
		}
		keys[key], keys[r["id"].(string)] = true, true
	}
	want := []string{"mem-0014[priority]", "mem-0027[title]"}
	if diff := fmt.Sprint(want); diff != fmt.Sprint(invalid) {
		t.Errorf("invalid rows %v, want %v", invalid, want)
	}
}
