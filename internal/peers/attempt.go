package peers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aimemory/catchup/internal/utf8cut"
)

const (
	maxSnippet = 200      // bytes of an error body quoted in an error
	maxDrain   = 64 << 10 // bytes read past an answer so the connection is reused
)

// attempt sends one request and reads its answer, classifying what went
// wrong by what the retry loop does next.
func (c *Client) attempt(ctx context.Context, f fetch) outcome {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := c.newRequest(actx, f.url, f.creds)
	if err != nil {
		return outcome{err: fmt.Errorf("build request: %w: %w", err, ErrUnavailable)}
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		if ce := certError(f.peer, f.creds, err); ce != nil {
			return outcome{err: ce}
		}
		return outcome{retry: true, retryAfter: -1, err: c.transportError(ctx, actx, err)}
	}
	defer drainClose(resp.Body)
	code := resp.StatusCode
	switch {
	case code == http.StatusOK:
		return c.readPage(ctx, actx, resp, f.limit)
	case code == http.StatusUnauthorized:
		se := statusError(resp, f.creds.APIKey, ErrRejected)
		return outcome{auth: true, err: c.unauthorized(f.peer, f.creds, se, signingTag(se.Error()))}
	case code == http.StatusTooManyRequests || code >= 500:
		ra := parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
		return outcome{retry: true, retryAfter: ra, err: statusError(resp, f.creds.APIKey, ErrUnavailable)}
	case code >= 300 && code < 400:
		// Location is not echoed: it is the peer's to choose and may hold anything.
		return outcome{err: fmt.Errorf("%d %s: redirects are not followed; configure the final URL: %w",
			code, http.StatusText(code), ErrRejected)}
	case code >= 400:
		return outcome{err: statusError(resp, f.creds.APIKey, ErrRejected)}
	}
	return outcome{err: fmt.Errorf("unexpected status %d: %w", code, ErrBadResponse)}
}

// readPage decodes a 200 answer under the body cap.
func (c *Client) readPage(ctx, actx context.Context, resp *http.Response, limit int) outcome {
	if resp.ContentLength > c.cfg.MaxBody {
		return outcome{err: fmt.Errorf("body of %d bytes exceeds %d bytes: %w: %w",
			resp.ContentLength, c.cfg.MaxBody, ErrTooLarge, ErrBadResponse)}
	}
	page, err := decodePage(&capReader{r: resp.Body, left: c.cfg.MaxBody, max: c.cfg.MaxBody, hint: resp.ContentLength}, limit)
	if err == nil {
		return outcome{page: page}
	}
	if errors.Is(err, ErrUnavailable) {
		if actx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("body not read within %v: %w", c.cfg.Timeout, ErrUnavailable)
		}
		return outcome{retry: true, retryAfter: -1, err: err}
	}
	return outcome{err: err}
}

// transportError describes a failed round trip without the request URL,
// which url.Error would repeat in full.
func (c *Client) transportError(ctx, actx context.Context, err error) error {
	if actx.Err() != nil && ctx.Err() == nil {
		return fmt.Errorf("GET: no answer within %v: %w", c.cfg.Timeout, ErrUnavailable)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("GET: %w: %w", err, ErrUnavailable)
}

// statusError reports a non-200 status with a short, sanitized snippet of
// the body, from which the API key is removed should the peer echo it.
func statusError(resp *http.Response, key string, sentinel error) error {
	code := resp.StatusCode
	s := bodySnippet(resp.Body, key)
	if s == "" {
		return fmt.Errorf("%d %s: %w", code, http.StatusText(code), sentinel)
	}
	return fmt.Errorf("%d %s: %q: %w", code, http.StatusText(code), s, sentinel)
}

// bodySnippet reads the start of an error body and returns at most
// maxSnippet bytes of it on one line: control characters and invalid UTF-8
// become spaces and '?', runs of white space one space, the key "[redacted]".
func bodySnippet(body io.Reader, key string) string {
	snippet, _ := utf8cut.Prefix(oneLine(redactPrefix(body, key)), maxSnippet)
	return snippet
}

// redactPrefix returns the first maxSnippet bytes of body with every
// occurrence of key that starts among them replaced. It reads past the
// window by the key's length, so a key that starts inside is replaced whole
// and no prefix of it can slide into the snippet.
func redactPrefix(body io.Reader, key string) string {
	raw, _ := io.ReadAll(io.LimitReader(body, int64(maxSnippet+len(key))))
	buf := string(raw)
	var b strings.Builder
	for i := 0; i < len(buf) && i < maxSnippet; {
		if key != "" && strings.HasPrefix(buf[i:], key) {
			b.WriteString("[redacted]")
			i += len(key)
			continue
		}
		b.WriteByte(buf[i])
		i++
	}
	return b.String()
}

// oneLine replaces control characters and runs of white space with one
// space, and invalid UTF-8 with '?'.
func oneLine(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			r = '?'
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// drainClose reads a little of what is left of a body, so that the
// connection can be reused, and closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, maxDrain)
	_ = body.Close()
}

// capReader fails a read that goes past its limit with a
// *bodyTooLargeError, and every read after it: json.Decoder.More drops read
// errors, so the error must still be there when the decoder asks again. A
// body of exactly the limit is fine: the next read probes for one more byte.
type capReader struct {
	r    io.Reader
	left int64
	max  int64
	err  error // sticky, once over the limit
	hint int64 // the body's Content-Length; -1 (or 0) when not known
}

// SizeHint is the body's length when it is known and under the cap, for
// the buffer it is read into; -1 otherwise.
func (r *capReader) SizeHint() int64 {
	if r.hint <= 0 || r.hint > r.max {
		return -1
	}
	return r.hint
}

// bodyTooLargeError is the read error of a body over the cap.
type bodyTooLargeError struct{ max int64 }

func (e *bodyTooLargeError) Error() string { return fmt.Sprintf("body exceeds %d bytes", e.max) }

func (r *capReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.left <= 0 {
		var one [1]byte
		n, err := r.r.Read(one[:])
		if n > 0 {
			r.err = &bodyTooLargeError{r.max}
			return 0, r.err
		}
		return 0, err
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.r.Read(p)
	r.left -= int64(n)
	return n, err
}
