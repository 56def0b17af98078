// Package peers speaks the ai-memory sync protocol (docs/protocol.md §1–§5): the
// peer list, the GET /api/v1/sync/since client with retries and a capped body,
// and API keys from Secrets Manager. Rows are decoded by internal/row.
//
// HTTP status codes and SDK errors never leave this package: every error a
// caller sees wraps one of ErrUnavailable, ErrRejected or ErrBadResponse, and
// no error text ever holds an API key, a signing key or a URL with
// credentials.
package peers

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMaxBody     = 64 << 20
	DefaultMaxAttempts = 5
	DefaultBaseBackoff = 200 * time.Millisecond
	DefaultMaxBackoff  = 10 * time.Second
)

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

func (cfg Config) withDefaults() Config {
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Transport: sharedTransport()}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	return cfg
}

// sharedTransport is the one keep-alive transport of every default client,
// so that warm invocations reuse connections to the same peers.
var sharedTransport = sync.OnceValue(func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	t.ForceAttemptHTTP2 = true
	return t
})

// Client fetches pages from peers. It is safe for concurrent use.
type Client struct {
	cfg   Config
	http  *http.Client
	trust trustCache // per-peer clients for secrets with ca_pem

	// Hooks, replaced by tests so that retries take no wall time.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func(max time.Duration) time.Duration // uniform in [0, max]
	nonce  func() (string, error)
}

// NewClient builds a client; it reads no environment.
//
// The client never follows redirects, even with a caller's http.Client: a
// redirect would carry X-API-Key to wherever the peer points, and could
// downgrade https to http. A redirect is answered with ErrRejected.
func NewClient(cfg Config) *Client {
	cfg = cfg.withDefaults()
	hc := *cfg.HTTP
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{
		cfg:    cfg,
		http:   &hc,
		now:    time.Now,
		sleep:  sleepCtx,
		jitter: fullJitter,
		nonce:  newNonce,
	}
}

// Fetch GETs one page of rows updated after since ("" = from the beginning).
// Errors wrap ErrUnavailable, ErrRejected or ErrBadResponse, and never contain
// a key or a full URL with credentials.
//
// 429, 5xx, transport errors, per-attempt timeouts and bodies cut short are
// retried up to MaxAttempts with full-jitter exponential backoff, or after
// the server's Retry-After, but never past ctx's deadline: a wait that would
// end beyond it gives up at once with ErrUnavailable. A 401 fetches the key
// once more with fresh set and retries once, at most once per peer per run
// (WithRun); a second 401 is ErrUnauthorized (ErrRejected when no
// credentials were sent), and under WithRun every later Fetch of that peer
// in the run returns it without a request. A 429 or 503 whose Retry-After
// ends past ctx's deadline is a *RetryLaterError. A certificate that does
// not verify is ErrUntrusted at once.
// Any other status is ErrRejected at once, without a retry.
func (c *Client) Fetch(ctx context.Context, p Peer, since string, limit int) (*Page, error) {
	if err := c.check(&p, limit); err != nil {
		return nil, err
	}
	u, err := sinceURL(p.URL, sinceQuery(since, c.cfg.LocalID, limit))
	if err != nil {
		return nil, fmt.Errorf("peer url: %w", ErrRejected)
	}
	pa, mu := authOf(ctx, p)
	mu.Lock()
	refused := pa.refused
	mu.Unlock()
	if refused != nil {
		return nil, fmt.Errorf("not asked again this run: %w", refused)
	}
	creds, err := c.credentials(ctx, p, false)
	if err != nil {
		return nil, err
	}
	f := fetch{url: u, peer: p, creds: creds, limit: limit}
	if f.hc, err = c.httpFor(p, creds); err != nil {
		return nil, err
	}
	return c.retry(ctx, f, pa, mu)
}

// check refuses what no retry can fix, before any request goes out.
func (c *Client) check(p *Peer, limit int) error {
	if c.cfg.LocalID == "" {
		return fmt.Errorf("no local id configured: %w", ErrRejected)
	}
	if limit < 1 {
		return fmt.Errorf("limit %d, want at least 1: %w", limit, ErrRejected)
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("peer %s: %w", err, ErrRejected)
	}
	return nil
}

// hasKey reports whether requests to p carry credentials from Keys.
func (c *Client) hasKey(p Peer) bool { return p.SecretID != "" && c.cfg.Keys != nil }

// credentials returns p's credentials, or none when p has no key.
func (c *Client) credentials(ctx context.Context, p Peer, fresh bool) (Credentials, error) {
	if !c.hasKey(p) {
		return Credentials{}, nil
	}
	creds, err := c.cfg.Keys.Credentials(ctx, p.SecretID, fresh)
	if err != nil {
		return Credentials{}, fmt.Errorf("credentials: %w", classify(err))
	}
	return creds, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func fullJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max) + 1))
}

// errCanceled reports the caller's own context ending, which no retry helps.
func errCanceled(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", err, ErrUnavailable)
	}
	return nil
}
