package row

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aimemory/catchup/internal/stamp"
)

// Limits of docs/protocol.md §5, the peers' own.
const (
	maxIDBytes       = 128
	maxTitleChars    = 512
	maxContentBytes  = 65536
	maxNamespaceLen  = 512
	maxNamespaceSegs = 8
	maxTags          = 50
	maxTagBytes      = 128
	maxMetadataBytes = 65536
	maxMetadataDepth = 32
)

// fieldRule checks one field of a row.
type fieldRule struct {
	name     string
	required bool
	check    func(v any, strictID bool) error
}

// rowRules are checked in this order, so a row breaking several rules is
// always reported by the same one. The optional fields of docs/protocol.md §5
// may be absent; a field no rule names is kept and never checked.
var rowRules = []fieldRule{
	{"id", true, checkID},
	{"updated_at", true, checkStamp},
	{"created_at", true, checkStamp},
	{"tier", true, oneOf("short", "mid", "long")},
	{"namespace", true, checkNamespace},
	{"title", true, checkTitle},
	{"content", true, checkContent},
	{"source", true, oneOf("user", "claude", "hook", "api", "cli", "import",
		"consolidation", "system", "chaos", "notify", "nhi")},
	{"tags", true, checkTags},
	{"priority", true, intIn(1, 10)},
	{"confidence", true, checkConfidence},
	{"access_count", true, intIn(0, math.MaxInt64)},
	{"metadata", false, checkMetadata},
	{"last_accessed_at", false, nullableString},
	{"expires_at", false, nullableString},
}

// ValidateFields checks a decoded row against docs/protocol.md §5 and returns the
// first rule it breaks, named by its field: `priority: 11 out of range
// 1..10`. strictID applies the v0.7+ id rule (only A-Za-z0-9_:.@-, no "..").
// Numbers may be json.Number (as Fetch decodes them) or float64. Errors
// never quote a title, content, tag or metadata, only ids and scalars.
func ValidateFields(fields map[string]any, strictID bool) error {
	if fields == nil {
		return errors.New("row is not an object")
	}
	for _, r := range rowRules {
		v, ok := fields[r.name]
		if !ok {
			if r.required {
				return fmt.Errorf("%s: missing", r.name)
			}
			continue
		}
		if err := r.check(v, strictID); err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
	}
	return nil
}

func asString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("a JSON %s, want a string", KindOf(v))
	}
	return s, nil
}

func checkID(v any, strictID bool) error {
	id, err := asString(v)
	if err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(id) == "":
		return errors.New("empty")
	case len(id) > maxIDBytes:
		return fmt.Errorf("%d bytes, at most %d", len(id), maxIDBytes)
	case hasControl(id, false):
		return fmt.Errorf("%q holds a control character", id)
	case !strictID:
		return nil
	case strings.Contains(id, ".."):
		return fmt.Errorf(`%q holds ".."`, id)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isIDByte(c) {
			return fmt.Errorf("%q holds %q; v0.7+ allows only A-Za-z0-9_:.@-", id, rune(c))
		}
	}
	return nil
}

func isIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '@' || c == '-'
}

func checkStamp(v any, _ bool) error {
	s, err := asString(v)
	if err != nil {
		return err
	}
	if _, err := stamp.Parse(s); err != nil {
		return fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	return nil
}

func oneOf(allowed ...string) func(any, bool) error {
	return func(v any, _ bool) error {
		s, err := asString(v)
		if err != nil {
			return err
		}
		for _, a := range allowed {
			if s == a {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", s, strings.Join(allowed, " "))
	}
}

func checkTitle(v any, _ bool) error {
	s, err := asString(v)
	if err != nil {
		return err
	}
	switch n := utf8.RuneCountInString(s); {
	case strings.TrimSpace(s) == "":
		return errors.New("empty")
	case n > maxTitleChars:
		return fmt.Errorf("%d characters, at most %d", n, maxTitleChars)
	case hasControl(s, true):
		return errors.New("holds a control character")
	}
	return nil
}

func checkContent(v any, _ bool) error {
	s, err := asString(v)
	if err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("empty")
	case len(s) > maxContentBytes:
		return fmt.Errorf("%d bytes, at most %d", len(s), maxContentBytes)
	case hasControl(s, true):
		return errors.New("holds a control character")
	}
	return nil
}

// hasControl reports a Unicode control character (category Cc, as Rust's
// char::is_control), optionally allowing '\n' and '\t'.
func hasControl(s string, allowNLTab bool) bool {
	for _, r := range s {
		if unicode.IsControl(r) && !(allowNLTab && (r == '\n' || r == '\t')) {
			return true
		}
	}
	return false
}

func checkNamespace(v any, _ bool) error {
	s, err := asString(v)
	if err != nil {
		return err
	}
	switch n := utf8.RuneCountInString(s); {
	case s == "":
		return errors.New("empty")
	case n > maxNamespaceLen:
		return fmt.Errorf("%d characters, at most %d", n, maxNamespaceLen)
	case strings.ContainsAny(s, " \\\x00"):
		return fmt.Errorf(`%q holds a space, '\' or NUL`, s)
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/"):
		return fmt.Errorf("%q starts or ends with '/'", s)
	}
	if n := strings.Count(s, "/") + 1; n > maxNamespaceSegs {
		return fmt.Errorf("%q has %d segments, at most %d", s, n, maxNamespaceSegs)
	}
	for seg := range strings.SplitSeq(s, "/") { // no slice: a row's one allocation fewer
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%q has an empty, '.' or '..' segment", s)
		}
	}
	return nil
}

func checkTags(v any, _ bool) error {
	tags, ok := v.([]any)
	if !ok {
		return fmt.Errorf("a JSON %s, want an array of strings", KindOf(v))
	}
	if len(tags) > maxTags {
		return fmt.Errorf("%d tags, at most %d", len(tags), maxTags)
	}
	for i, t := range tags {
		s, err := asString(t)
		switch {
		case err != nil:
			return fmt.Errorf("element %d: %w", i, err)
		case strings.TrimSpace(s) == "":
			return fmt.Errorf("element %d: empty", i)
		case len(s) > maxTagBytes:
			return fmt.Errorf("element %d: %d bytes, at most %d", i, len(s), maxTagBytes)
		case hasControl(s, false):
			return fmt.Errorf("element %d: holds a control character", i)
		}
	}
	return nil
}

func nullableString(v any, _ bool) error {
	if v == nil {
		return nil
	}
	_, err := asString(v)
	return err
}
