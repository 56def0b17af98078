package peers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SecretValues reads a secret's value by id (internal/peers/awssecrets over
// Secrets Manager). Its errors wrap ErrRejected (no retry fixes it: missing,
// denied, undecryptable) or ErrUnavailable, and never hold the value.
type SecretValues interface {
	SecretValue(ctx context.Context, id string) ([]byte, error)
}

// SecretsCache is a KeySource over Secrets Manager that keeps each secret's
// credentials for a TTL, so that warm invocations do not fetch them again.
// Concurrent requests for the same secret share one fetch. Failures are not
// cached. It is safe for concurrent use.
type SecretsCache struct {
	api SecretValues
	ttl time.Duration
	now func() time.Time

	mu       sync.Mutex
	entries  map[string]cached
	inflight map[flightKey]*flight
}

type cached struct {
	creds   Credentials
	expires time.Time
}

// flightKey separates fresh fetches: a caller that just got a 401 must not
// be handed the result of a fetch that may have started before the key
// rotated, so it joins only another fresh fetch.
type flightKey struct {
	id    string
	fresh bool
}

type flight struct {
	done  chan struct{}
	creds Credentials
	err   error
}

// NewSecretsCache builds a cache over api. ttl <= 0 disables caching (every
// call fetches); now is the clock that ages entries.
func NewSecretsCache(api SecretValues, ttl time.Duration, now func() time.Time) *SecretsCache {
	return &SecretsCache{
		api:      api,
		ttl:      ttl,
		now:      now,
		entries:  make(map[string]cached),
		inflight: make(map[flightKey]*flight),
	}
}

// Credentials returns the credentials of secretID, from the cache unless
// fresh is set or the entry is older than the TTL. Errors wrap ErrRejected
// (the secret is missing, access is denied, or its value is malformed) or
// ErrUnavailable (throttling, network, the context ending), and never hold
// the secret's value.
func (c *SecretsCache) Credentials(ctx context.Context, secretID string, fresh bool) (Credentials, error) {
	for {
		f, leader, creds, ok := c.join(secretID, fresh)
		if ok {
			return creds, nil
		}
		if leader {
			c.load(ctx, secretID, fresh, f)
			return f.creds, f.err
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			return Credentials{}, fmt.Errorf("secret %q: %w: %w", secretID, ctx.Err(), ErrUnavailable)
		}
		// The leader's context ending is no reason for ours to fail: try again.
		if f.err != nil && isContextErr(f.err) && ctx.Err() == nil {
			continue
		}
		return f.creds, f.err
	}
}

// join returns a cached value (ok), or the flight to wait for, starting one
// (leader) when none is in the air.
func (c *SecretsCache) join(id string, fresh bool) (f *flight, leader bool, creds Credentials, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, hit := c.entries[id]; hit && !fresh && c.now().Before(e.expires) {
		return nil, false, e.creds, true
	}
	if f, busy := c.inflight[flightKey{id, true}]; busy {
		return f, false, Credentials{}, false
	}
	if f, busy := c.inflight[flightKey{id, false}]; busy && !fresh {
		return f, false, Credentials{}, false
	}
	f = &flight{done: make(chan struct{})}
	c.inflight[flightKey{id, fresh}] = f
	return f, true, Credentials{}, false
}

// load fetches one secret for a flight and publishes the result.
func (c *SecretsCache) load(ctx context.Context, id string, fresh bool, f *flight) {
	f.creds, f.err = c.fetch(ctx, id)
	c.mu.Lock()
	delete(c.inflight, flightKey{id, fresh})
	if f.err == nil && c.ttl > 0 {
		c.entries[id] = cached{creds: f.creds, expires: c.now().Add(c.ttl)}
	}
	c.mu.Unlock()
	close(f.done)
}

func (c *SecretsCache) fetch(ctx context.Context, id string) (Credentials, error) {
	value, err := c.api.SecretValue(ctx, id)
	if err != nil {
		return Credentials{}, fmt.Errorf("secret %q: %w", id, err)
	}
	creds, err := ParseSecret(value)
	if err != nil {
		return Credentials{}, fmt.Errorf("secret %q: %w", id, err)
	}
	return creds, nil
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
