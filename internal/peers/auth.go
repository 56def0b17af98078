package peers

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// A v1 peer locks out a source address after 5 failed key checks
// (docs/protocol.md §8), and every peer behind it with it. So a 401 earns at
// most one key refetch and retry per peer per run, and once a peer refused
// our credentials in a run no further request goes to it in that run.

type runKey struct{}

// runAuth is the auth state of one run, per peer id.
type runAuth struct {
	mu    sync.Mutex
	peers map[string]*peerAuth
}

type peerAuth struct {
	refetched bool  // the run's one key refetch after a 401 is used
	refused   error // a 401 the run cannot retry; later fetches return it
}

// WithRun marks ctx as one run: every Fetch under it shares, per peer, the
// one key refetch after a 401 and its outcome. Without it each Fetch has
// its own.
func WithRun(ctx context.Context) context.Context {
	return context.WithValue(ctx, runKey{}, &runAuth{peers: map[string]*peerAuth{}})
}

// authOf returns p's auth state in ctx's run, or a fresh one outside a run.
func authOf(ctx context.Context, p Peer) (*peerAuth, *sync.Mutex) {
	ra, ok := ctx.Value(runKey{}).(*runAuth)
	if !ok {
		return &peerAuth{}, &sync.Mutex{}
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	pa := ra.peers[p.ID]
	if pa == nil {
		pa = &peerAuth{}
		ra.peers[p.ID] = pa
	}
	return pa, &ra.mu
}

// signingTag returns the signing tag of a 401 body snippet
// (docs/protocol.md §2), or "".
func signingTag(snippet string) string {
	for _, f := range strings.FieldsFunc(snippet, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if f == "peer_not_enrolled" || strings.HasPrefix(f, "x_memory_sig_") || strings.HasPrefix(f, "x_memory_nonce_") {
			return f
		}
	}
	return ""
}

// unauthorized words a 401: with a signing tag, what to enrol where; else
// which key to fix. keyed says our credentials were sent (a failed key
// check on the peer's side: ErrUnauthorized), else plain ErrRejected.
func (c *Client) unauthorized(p Peer, creds Credentials, status error, tag string) error {
	sentinel := ErrRejected
	if creds.APIKey != "" || creds.SigningKey != nil || creds.Credential != "" {
		sentinel = ErrUnauthorized
	}
	secret := "its secret"
	if p.SecretID != "" {
		secret = fmt.Sprintf("secret %q", p.SecretID)
	}
	var fix string
	switch {
	case tag == "x_memory_nonce_replay":
		fix = "the peer saw this request's nonce before (a proxy replaying requests, or a clock or cache problem on the peer)"
	case tag != "" && creds.SigningKey == nil:
		fix = fmt.Sprintf("peer %s requires signed requests: create a key with `catchupctl identity new`, store it as signing_key in %s, and enrol the key printed by `catchupctl identity pubkey` on peer %s under id %s",
			p.ID, secret, p.ID, c.cfg.LocalID)
	case tag != "":
		fix = fmt.Sprintf("enrol the key printed by `catchupctl identity pubkey` (from %s) on peer %s under id %s", secret, p.ID, c.cfg.LocalID)
	case p.SecretID == "":
		fix = fmt.Sprintf("peer %s wants a key: give it a secret_id", p.ID)
	default:
		fix = fmt.Sprintf("check api_key in %s (refetched once this run; no further attempt, so the peer does not lock us out)", secret)
	}
	if tag != "" {
		return fmt.Errorf("peer %s: 401 %s: %s: %w", p.ID, tag, fix, sentinel)
	}
	return fmt.Errorf("peer %s: %v: %s: %w", p.ID, status, fix, sentinel)
}
