package peers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
)

// Peer is one configured peer.
type Peer struct {
	ID       string `json:"id"`                  // stable key of the watermark
	URL      string `json:"url"`                 // base URL, normalized by ParsePeers
	SecretID string `json:"secret_id,omitempty"` // Secrets Manager id or ARN; "" = no key
}

const (
	maxPeerIDBytes   = 128
	maxSecretIDBytes = 2048 // an ARN may be long; a name is at most 512
	pushSuffix       = "/api/v1/sync/push"
)

// fieldError names the field of a peer that is wrong, so that ParsePeers can
// prefix the element: `[2].url: ...`.
type fieldError struct {
	field string
	msg   string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// ParsePeers decodes and validates the PEERS JSON array: ids non-empty, unique,
// of [A-Za-z0-9_.:@-] and at most 128 bytes; urls absolute, https unless the host
// is loopback; a trailing "/" and "/api/v1/sync/push" removed. Errors name the
// offending element.
//
// Errors are written to follow the caller's "PEERS: " prefix and name the
// element by its 0-based index: `[2].url: "http://example.com" must be https
// (plain http only for loopback hosts)`. An empty array, an unknown key in an
// element (a typo such as "secretid" would silently drop a key) and a URL
// holding credentials are errors; a URL with credentials is never echoed.
func ParsePeers(s string) ([]Peer, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(s), &elems); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf(`a JSON %s, want an array of {"id","url","secret_id"} objects`, te.Value)
		}
		return nil, fmt.Errorf(`not a JSON array of {"id","url","secret_id"} objects: %v`, jsonProblem(err))
	}
	if len(elems) == 0 {
		return nil, errors.New("empty array: at least one peer is required")
	}
	peers := make([]Peer, len(elems))
	seen := make(map[string]int, len(elems))
	for i, raw := range elems {
		if err := decodePeer(raw, &peers[i]); err != nil {
			return nil, fmt.Errorf("[%d]%s", i, err)
		}
		if err := peers[i].Validate(); err != nil {
			return nil, fmt.Errorf("[%d].%w", i, err)
		}
		if j, dup := seen[peers[i].ID]; dup {
			return nil, fmt.Errorf("[%d].id: %q duplicates [%d].id", i, peers[i].ID, j)
		}
		seen[peers[i].ID] = i
	}
	return peers, nil
}

// decodePeer decodes one element strictly. Its error starts with ": " or "."
// so that it reads well after the element's index.
func decodePeer(raw json.RawMessage, p *Peer) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return errors.New(`: not an object {"id","url","secret_id"}`)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf(".%s: a JSON %s, want a string", te.Field, te.Value)
		}
		return fmt.Errorf(": %v", jsonProblem(err))
	}
	return nil
}

// jsonProblem renders a decoding error without the input it came from.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	return err.Error()
}

// Validate checks one peer as ParsePeers does and normalizes its URL. Its
// errors start with the field name: `url: ...`, `id: ...`, `secret_id: ...`.
func (p *Peer) Validate() error {
	if err := validatePeerID(p.ID); err != nil {
		return &fieldError{"id", err.Error()}
	}
	if err := validateSecretID(p.SecretID); err != nil {
		return &fieldError{"secret_id", err.Error()}
	}
	base, err := normalizeURL(p.URL)
	if err != nil {
		return &fieldError{"url", err.Error()}
	}
	p.URL = base
	return nil
}

func validatePeerID(id string) error {
	switch {
	case id == "":
		return errors.New("empty")
	case len(id) > maxPeerIDBytes:
		return fmt.Errorf("%d bytes, at most %d", len(id), maxPeerIDBytes)
	}
	for _, r := range id {
		if !isPeerIDRune(r) {
			return fmt.Errorf("%q holds %q; only A-Za-z0-9_.:@- allowed", id, r)
		}
	}
	return nil
}

func isPeerIDRune(r rune) bool {
	return r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:@-", r))
}

func validateSecretID(id string) error {
	if len(id) > maxSecretIDBytes {
		return fmt.Errorf("%d bytes, at most %d", len(id), maxSecretIDBytes)
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("%q holds white space or a control character", id)
		}
	}
	return nil
}

// normalizeURL checks a peer URL and returns its base: scheme, host and path
// with a trailing "/" and "/api/v1/sync/push" removed.
func normalizeURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	shown := redactUserinfo(raw)
	if raw == "" {
		return "", errors.New("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", shown)
	}
	switch {
	case u.User != nil:
		return "", fmt.Errorf("%q holds credentials (user@); put the key in secret_id", shown)
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("%q must be an absolute https:// URL", shown)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%q has no host", shown)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("%q has a query; give the base URL only", shown)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", fmt.Errorf("%q has a fragment; give the base URL only", shown)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return "", fmt.Errorf("%q must be https (plain http only for loopback hosts)", shown)
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	path = strings.TrimSuffix(path, pushSuffix)
	path = strings.TrimSuffix(path, "/")
	return u.Scheme + "://" + u.Host + path, nil
}

// isLoopback reports whether host is localhost, in 127.0.0.0/8, or ::1. It
// never resolves a name: a name that resolves to loopback today may not
// tomorrow.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactUserinfo hides anything between "//" and the last "@" of the
// authority, so that an error never echoes a password.
func redactUserinfo(raw string) string {
	i := strings.Index(raw, "//")
	if i < 0 {
		if strings.Contains(raw, "@") {
			return "[redacted]"
		}
		return raw
	}
	auth := raw[i+2:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	at := strings.LastIndex(auth, "@")
	if at < 0 {
		return raw
	}
	return raw[:i+2] + "[redacted]" + raw[i+2+at:]
}
