package peers

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// trusted is the HTTP client of one peer whose secret holds ca_pem, built
// once per distinct ca_pem: a secret refetched with the same roots (on its
// TTL, or after a 401) keeps the connection pool.
type trusted struct {
	pem string
	hc  *http.Client
}

// trustCache holds the per-peer clients, keyed by peer id.
type trustCache struct {
	mu    sync.Mutex
	peers map[string]trusted
}

// httpFor returns the client that talks to p: the shared one unless creds
// hold roots, then one verifying against those roots only (never the system
// roots; host name or IP still checked).
func (c *Client) httpFor(p Peer, creds Credentials) (*http.Client, error) {
	if creds.Roots == nil {
		return c.http, nil
	}
	c.trust.mu.Lock()
	defer c.trust.mu.Unlock()
	if t, ok := c.trust.peers[p.ID]; ok && t.pem == creds.CAPEM {
		return t.hc, nil
	}
	base, ok := c.http.Transport.(*http.Transport)
	if c.http.Transport == nil {
		base, ok = http.DefaultTransport.(*http.Transport)
	}
	if !ok {
		return nil, fmt.Errorf("peer %s: ca_pem needs an *http.Transport, the client has a %T: %w", p.ID, c.http.Transport, ErrRejected)
	}
	t := base.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.MinVersion = max(t.TLSClientConfig.MinVersion, tls.VersionTLS12)
	t.TLSClientConfig.RootCAs = creds.Roots
	t.TLSClientConfig.InsecureSkipVerify = false
	hc := *c.http
	hc.Transport = t
	if old, ok := c.trust.peers[p.ID]; ok {
		old.hc.CloseIdleConnections()
	}
	if c.trust.peers == nil {
		c.trust.peers = map[string]trusted{}
	}
	c.trust.peers[p.ID] = trusted{pem: creds.CAPEM, hc: &hc}
	return &hc, nil
}

// certError recognizes a certificate that did not verify, and says what to
// set. It returns nil for any other transport error.
func certError(p Peer, creds Credentials, err error) error {
	var (
		verr *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		he   x509.HostnameError
		ci   x509.CertificateInvalidError
	)
	if !errors.As(err, &verr) && !errors.As(err, &ua) && !errors.As(err, &he) && !errors.As(err, &ci) {
		return nil
	}
	reason := err
	if verr != nil {
		reason = verr.Err
	}
	var fix string
	switch {
	case p.SecretID == "":
		fix = "give the peer a secret_id whose secret holds ca_pem, the PEM of the peer's CA (a v1 peer's <key_dir>/tls/local-ca.pem)"
	case creds.Roots == nil:
		fix = fmt.Sprintf("set ca_pem in secret %q to the PEM of the peer's CA (a v1 peer's <key_dir>/tls/local-ca.pem)", p.SecretID)
	default:
		fix = fmt.Sprintf("the certificate does not verify against ca_pem of secret %q: set ca_pem to the CA that issued it, and check the peer URL's host is in the certificate", p.SecretID)
	}
	return fmt.Errorf("peer %s: TLS certificate not trusted: %v; %s: %w", p.ID, reason, fix, ErrUntrusted)
}
