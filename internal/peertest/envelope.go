package peertest

import (
	"encoding/json"
	"fmt"
)

// Generation is a server generation in the field; it decides the envelope
// (docs/protocol.md §2) and whether rows are scope-filtered.
type Generation int

// The three generations a client must handle.
const (
	V06    Generation = iota // memories, count, limit, updated_since, earliest/latest; no scoping
	V07                      // adds excluded_for_scope(_private) and scope_status
	Newest                   // v0.7.1 and later: adds next_since
	// V1 (v0.8 to v1.0, docs/protocol.md §8): the Newest envelope, a page cap
	// of 1000, signed requests from enrolled keys only (EnrolKey), auth
	// lockout after failed key checks, and admission control (WithShed).
	// Serve it over TLS with NewV1HTTPTest.
	V1
)

// String returns the name ParseGeneration reads: "v0.6", "v0.7" or "newest".
func (g Generation) String() string {
	switch g {
	case V06:
		return "v0.6"
	case V07:
		return "v0.7"
	case Newest:
		return "newest"
	case V1:
		return "v1"
	}
	return fmt.Sprintf("Generation(%d)", int(g))
}

// ParseGeneration reads "v0.6", "v0.7", "newest" or "v1".
func ParseGeneration(s string) (Generation, error) {
	for _, g := range []Generation{V06, V07, Newest, V1} {
		if s == g.String() {
			return g, nil
		}
	}
	return 0, fmt.Errorf("generation %q: want v0.6, v0.7, newest or v1", s)
}

// Scope is what a scope filter decides for one row.
type Scope int

// Scope decisions. Hidden rows count in excluded_for_scope, HiddenPrivate
// ones in excluded_for_scope_private.
const (
	Visible Scope = iota
	Hidden
	HiddenPrivate
)

// ScopeFunc decides, for each row the server examined, whether the caller
// may see it. It runs after the LIMIT, as on the real server, and must not
// call the Server's methods.
type ScopeFunc func(Row) Scope

// HideIf is a ScopeFunc that hides (as excluded_for_scope) the rows for which
// pred is true.
func HideIf(pred func(Row) bool) ScopeFunc {
	return func(r Row) Scope {
		if pred(r) {
			return Hidden
		}
		return Visible
	}
}

// Scope status values a v0.7+ server reports.
const (
	StatusScoped      = "scoped"
	StatusLegacy      = "legacy_bypass"
	StatusDefaultDeny = "no_allowlist_default_deny"
)

// page is what the handler computed for one request, before any fault edits.
type page struct {
	gen              Generation
	scope            ScopeFunc
	status           string // scope_status
	since            *string
	limit            int
	examined         []Row
	shown            []Row
	excluded, privat int
}

// filter applies the scope filter to the examined rows (v0.7 and later only).
func (p *page) filter() {
	for _, r := range p.examined {
		s := Visible
		if p.gen >= V07 && p.scope != nil {
			s = p.scope(r)
		}
		switch s {
		case Hidden:
			p.excluded++
		case HiddenPrivate:
			p.privat++
		default:
			p.shown = append(p.shown, r)
		}
	}
}

// envelope builds the response body of the page's generation as a map, so a
// Fault can edit it. "memories" is a []json.RawMessage.
func (p *page) envelope() map[string]any {
	g := p.gen
	mems := make([]json.RawMessage, 0, len(p.shown))
	for _, r := range p.shown {
		mems = append(mems, r.Raw)
	}
	env := map[string]any{
		"memories":            mems,
		"count":               len(mems),
		"limit":               p.limit,
		"updated_since":       nullable(p.since),
		"earliest_updated_at": nil,
		"latest_updated_at":   nil,
	}
	if n := len(p.shown); n > 0 {
		env["earliest_updated_at"] = p.shown[0].UpdatedAt
		env["latest_updated_at"] = p.shown[n-1].UpdatedAt
	}
	if g >= V07 {
		env["excluded_for_scope"] = p.excluded
		env["excluded_for_scope_private"] = p.privat
		env["scope_status"] = p.status
	}
	if g >= Newest {
		env["next_since"] = nullable(p.nextSince())
	}
	return env
}

// nextSince is the fake's safe cursor. The real server's algorithm is not
// known, so the fake serves one that never skips a row it holds now:
//   - nothing examined: none (null);
//   - a page that is not full examined every row after since, so the last
//     examined row's updated_at (visible or filtered out: this is what moves
//     a client past a fully filtered page);
//   - a full page may have cut a tie group, so the largest examined
//     updated_at strictly below the last examined one, or none when the whole
//     page is one tie group.
func (p *page) nextSince() *string {
	n := len(p.examined)
	if n == 0 {
		return nil
	}
	last := p.examined[n-1].UpdatedAt
	if n < p.limit {
		return &last
	}
	for i := n - 2; i >= 0; i-- {
		if u := p.examined[i].UpdatedAt; u < last {
			return &u
		}
	}
	return nil
}

func nullable(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
