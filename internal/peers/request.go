package peers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const sincePath = "/api/v1/sync/since"

// escape percent-encodes every byte outside the unreserved set A-Za-z0-9-_.~
// (RFC 3986). url.QueryEscape is not enough: it writes a space as '+', which
// the peer's form decoder would read back as a space, and the peer would
// answer 400 for a `since` whose '+' came back as ' '.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// sinceQuery is the raw query of a pull: since (omitted when ""), peer, limit.
func sinceQuery(since, localID string, limit int) string {
	var b strings.Builder
	if since != "" {
		b.WriteString("since=")
		b.WriteString(escape(since))
		b.WriteByte('&')
	}
	b.WriteString("peer=")
	b.WriteString(escape(localID))
	b.WriteString("&limit=")
	b.WriteString(strconv.Itoa(limit))
	return b.String()
}

// sinceURL is the request URL of one pull from a normalized base URL.
func sinceURL(base, rawQuery string) (*url.URL, error) {
	u, err := url.Parse(base + sincePath)
	if err != nil {
		return nil, err
	}
	u.RawQuery = rawQuery
	return u, nil
}

// newRequest builds one attempt's request with the protocol's headers, signed
// when creds hold a signing key. A new nonce is drawn for every attempt.
func (c *Client) newRequest(ctx context.Context, u *url.URL, creds Credentials) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Agent-Id", c.cfg.LocalID)
	req.Header.Set("X-Peer-Id", c.cfg.LocalID)
	if creds.APIKey != "" {
		req.Header.Set("X-API-Key", creds.APIKey)
	}
	if creds.Credential != "" {
		req.Header.Set("X-Memory-Cred", creds.Credential)
		if creds.CredentialChain != "" {
			req.Header.Set("X-Memory-Cred-Chain", creds.CredentialChain)
		}
	}
	if creds.SigningKey != nil {
		nonce, err := c.nonce()
		if err != nil {
			return nil, err
		}
		req.Header.Set("X-Memory-Nonce", nonce)
		req.Header.Set("X-Memory-Sig", sign(creds.SigningKey, req.URL.EscapedPath(), req.URL.RawQuery, nonce))
	}
	return req, nil
}
