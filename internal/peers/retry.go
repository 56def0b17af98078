package peers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxWaitNoDeadline bounds one wait when the caller's context has no
// deadline, so that a peer's Retry-After of a day cannot hang a local run.
const maxWaitNoDeadline = time.Minute

// fetch is one logical request, retried as a whole.
type fetch struct {
	url   *url.URL
	peer  Peer
	creds Credentials
	hc    *http.Client // c.http, or the peer's own for ca_pem
	limit int
}

// outcome is the result of one attempt.
type outcome struct {
	page       *Page
	err        error         // nil on success; wraps one of the sentinels
	retry      bool          // transient: try again after a wait
	auth       bool          // 401: try again once with a fresh key
	retryAfter time.Duration // the server's Retry-After; < 0 when absent
}

// retry runs attempts of f until one succeeds, one fails for good, the
// attempts are spent, or waiting for the next would pass ctx's deadline.
func (c *Client) retry(ctx context.Context, f fetch, pa *peerAuth, mu *sync.Mutex) (*Page, error) {
	p := f.peer
	for n := 1; ; n++ {
		o := c.attempt(ctx, f)
		if o.err == nil {
			return o.page, nil
		}
		if err := errCanceled(ctx); err != nil {
			return nil, fmt.Errorf("attempt %d: %w", n, err)
		}
		switch {
		case o.auth:
			mu.Lock()
			again := !pa.refetched && c.hasKey(p)
			pa.refetched = true
			if !again {
				pa.refused = o.err
			}
			mu.Unlock()
			if !again {
				return nil, o.err
			}
			creds, err := c.credentials(ctx, p, true)
			if err != nil {
				return nil, fmt.Errorf("after 401: %w", err)
			}
			if f.hc, err = c.httpFor(p, creds); err != nil {
				return nil, err
			}
			f.creds = creds
			n-- // a key rotation is not one of the transient retries
		case !o.retry:
			return nil, o.err
		case n >= c.cfg.MaxAttempts:
			return nil, fmt.Errorf("%w (gave up after %d attempts)", o.err, n)
		default:
			if err := c.wait(ctx, n, o.retryAfter); err != nil {
				if o.retryAfter >= 0 && ctx.Err() == nil {
					return nil, &RetryLaterError{At: c.now().Add(o.retryAfter), Err: fmt.Errorf("%w (attempt %d; %w)", o.err, n, err)}
				}
				return nil, fmt.Errorf("%w (attempt %d; %w)", o.err, n, err)
			}
		}
	}
}

// wait sleeps before attempt n+1: the server's Retry-After when it gave one,
// else full-jitter exponential backoff. It refuses to sleep past ctx's
// deadline, since no attempt could then finish in time.
func (c *Client) wait(ctx context.Context, n int, retryAfter time.Duration) error {
	d, what := retryAfter, "Retry-After"
	if d < 0 {
		d, what = c.backoff(n), "backoff"
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := dl.Sub(c.now()); d >= left {
			return fmt.Errorf("%s %v reaches past the deadline (%v left)", what, d, left.Round(time.Millisecond))
		}
	} else if d > maxWaitNoDeadline {
		return fmt.Errorf("%s %v is longer than %v", what, d, maxWaitNoDeadline)
	}
	return c.sleep(ctx, d)
}

// backoff is a full-jitter delay before attempt n+1: uniform in
// [0, min(MaxBackoff, BaseBackoff·2^(n-1))].
func (c *Client) backoff(n int) time.Duration {
	ceil := c.cfg.BaseBackoff
	for i := 1; i < n && ceil < c.cfg.MaxBackoff; i++ {
		ceil *= 2
	}
	return c.jitter(min(ceil, c.cfg.MaxBackoff))
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
// It returns -1 when the header is absent or unreadable.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return -1
	}
	secs, err := strconv.ParseUint(h, 10, 32)
	switch {
	case err == nil:
		return time.Duration(secs) * time.Second
	case errors.Is(err, strconv.ErrRange):
		return math.MaxUint32 * time.Second // "come back in a century": give up
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}
