// Package peers speaks the ai-memory sync protocol (protocol.md §1–§5): peer
// configuration, the GET /api/v1/sync/since client with retries and a capped
// body, row decoding and validation, and API keys from Secrets Manager.
package peers

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Errors returned by Client.Fetch, classified by what the caller does next.
var (
	// ErrUnavailable: transport error, timeout, 429 or 5xx after retries; try next run.
	ErrUnavailable = errors.New("peer unavailable")
	// ErrRejected: any other 4xx, or 401 after a fresh key; fix config or auth.
	ErrRejected = errors.New("peer rejected the request")
	// ErrBadResponse: body over the cap, not JSON, or no `memories` array.
	ErrBadResponse = errors.New("bad response from peer")
)

// Peer is one configured peer.
type Peer struct {
	ID       string `json:"id"`                  // stable key of the watermark
	URL      string `json:"url"`                 // base URL, normalized by ParsePeers
	SecretID string `json:"secret_id,omitempty"` // Secrets Manager id or ARN; "" = no key
}

// ParsePeers decodes and validates the PEERS JSON array: ids non-empty, unique,
// of [A-Za-z0-9_.:@-] and at most 128 bytes; urls absolute, https unless the host
// is loopback; a trailing "/" and "/api/v1/sync/push" removed. Errors name the
// offending element.
func ParsePeers(s string) ([]Peer, error) { panic("unimplemented") }

// Validate checks one peer as ParsePeers does and normalizes its URL.
func (p *Peer) Validate() error { panic("unimplemented") }

// Credentials are what a peer's secret holds.
type Credentials struct {
	APIKey     string
	SigningKey ed25519.PrivateKey // nil when the secret has no signing_key
}

// KeySource returns the credentials stored under a secret id. With fresh set
// it bypasses any cache (used once after a 401, for key rotation).
type KeySource interface {
	Credentials(ctx context.Context, secretID string, fresh bool) (Credentials, error)
}

// Row is one element of `memories`, kept exactly as received.
type Row struct {
	Raw       json.RawMessage // the row's bytes as the peer sent them
	Fields    map[string]any  // decoded with json.Number; nil when Raw is not an object
	ID        string          // "" when absent or not a string
	UpdatedAt string          // "" when absent or not a string
	Instant   time.Time       // parsed UpdatedAt; zero when Invalid != nil
	Invalid   error           // non-nil: why the row breaks protocol.md §5 (quarantine it)
}

// Page is one decoded answer.
type Page struct {
	Rows                    []Row
	Count                   int
	Limit                   int // effective limit echoed by the server (the asked one if absent)
	ExcludedForScope        int
	ExcludedForScopePrivate int
	ScopeStatus             string // "" on v0.6
	NextSince               string // "" when absent or null
	UpdatedSince            string
}

// Examined is the number of rows the server looked at for this page.
func (p *Page) Examined() int {
	return p.Count + p.ExcludedForScope + p.ExcludedForScopePrivate
}

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	LocalID     string        // sent as peer=, X-Agent-Id, X-Peer-Id
	HTTP        *http.Client  // shared, keep-alive; default: tuned transport
	Timeout     time.Duration // per request attempt; default 30s
	MaxBody     int64         // response cap in bytes; default 64 MiB
	Keys        KeySource     // nil: no keys anywhere
	MaxAttempts int           // per request, default 5
	BaseBackoff time.Duration // default 200ms, full jitter, doubling
	MaxBackoff  time.Duration // default 10s; Retry-After honored up to the context deadline
}

// Client fetches pages from peers. It is safe for concurrent use.
type Client struct{}

// NewClient builds a client; it reads no environment.
func NewClient(cfg Config) *Client { panic("unimplemented") }

// Fetch GETs one page of rows updated after since ("" = from the beginning).
// Errors wrap ErrUnavailable, ErrRejected or ErrBadResponse, and never contain
// a key or a full URL with credentials.
func (c *Client) Fetch(ctx context.Context, p Peer, since string, limit int) (*Page, error) {
	panic("unimplemented")
}
