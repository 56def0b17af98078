package peers

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Credentials are what a peer's secret holds.
type Credentials struct {
	APIKey     string
	SigningKey ed25519.PrivateKey // nil when the secret has no signing_key
	// Credential and CredentialChain are sent as X-Memory-Cred ("v1=..."),
	// and X-Memory-Cred-Chain, when set (docs/protocol.md §1).
	Credential      string
	CredentialChain string
	// Roots, from ca_pem, are the only CAs this peer's certificate may chain
	// to; nil means the system roots. CAPEM is the PEM they came from, kept
	// so that a refetched secret with the same roots reuses the connection pool.
	Roots *x509.CertPool
	CAPEM string
}

// KeySource returns the credentials stored under a secret id. With fresh set
// it bypasses any cache (used once after a 401, for key rotation).
//
// Errors should wrap ErrRejected (the secret is missing, unreadable or
// malformed) or ErrUnavailable (try later); Fetch treats any other error as
// ErrUnavailable. They must never hold the secret's value.
type KeySource interface {
	Credentials(ctx context.Context, secretID string, fresh bool) (Credentials, error)
}

// ParseSecret reads a peer secret's value: either the API key as a plain
// string (surrounding white space removed), or a JSON object with "api_key"
// and optionally "signing_key", an Ed25519 key in base64 (standard or URL
// alphabet, padded or not) of 32 bytes (a seed) or 64 bytes (seed and public
// key). It may also hold "ca_pem" (one or more PEM CA certificates: the
// peer's TLS is verified against those roots only), "credential" and
// "credential_chain" (a CA-issued credential for the peer to find our key
// by). Errors wrap ErrRejected and never quote the value.
func ParseSecret(value []byte) (Credentials, error) {
	v := bytes.TrimSpace(value)
	if len(v) == 0 {
		return Credentials{}, fmt.Errorf("secret is empty: %w", ErrRejected)
	}
	if v[0] != '{' {
		return Credentials{APIKey: string(v)}, nil
	}
	var s struct {
		APIKey          *string `json:"api_key"`
		SigningKey      *string `json:"signing_key"`
		CAPEM           *string `json:"ca_pem"`
		Credential      *string `json:"credential"`
		CredentialChain *string `json:"credential_chain"`
	}
	if err := json.Unmarshal(v, &s); err != nil {
		// The decoder's message may quote bytes of the value; give none.
		return Credentials{}, fmt.Errorf("secret starts with '{' but is not a JSON object of strings: %w", ErrRejected)
	}
	var c Credentials
	if s.APIKey != nil {
		c.APIKey = strings.TrimSpace(*s.APIKey)
	}
	if s.SigningKey != nil {
		key, err := parseSigningKey(*s.SigningKey)
		if err != nil {
			return Credentials{}, fmt.Errorf("secret signing_key: %w: %w", err, ErrRejected)
		}
		c.SigningKey = key
	}
	if s.CAPEM != nil {
		roots, err := parseRoots(*s.CAPEM)
		if err != nil {
			return Credentials{}, fmt.Errorf("secret ca_pem: %w: %w", err, ErrRejected)
		}
		c.Roots, c.CAPEM = roots, *s.CAPEM
	}
	if err := c.setCredential(s.Credential, s.CredentialChain); err != nil {
		return Credentials{}, err
	}
	if c.APIKey == "" && c.SigningKey == nil && c.Credential == "" && c.Roots == nil {
		return Credentials{}, fmt.Errorf("secret JSON has neither api_key nor signing_key: %w", ErrRejected)
	}
	return c, nil
}

// setCredential keeps credential ("v1=" added when absent) and its chain,
// refusing what could not travel in a header. Errors never quote them.
func (c *Credentials) setCredential(cred, chain *string) error {
	if cred != nil {
		v := strings.TrimSpace(*cred)
		if v != "" && !strings.HasPrefix(v, "v1=") {
			v = "v1=" + v
		}
		if !headerSafe(v) {
			return fmt.Errorf("secret credential holds characters a header cannot carry: %w", ErrRejected)
		}
		c.Credential = v
	}
	if chain != nil {
		v := strings.TrimSpace(*chain)
		if !headerSafe(v) {
			return fmt.Errorf("secret credential_chain holds characters a header cannot carry: %w", ErrRejected)
		}
		if v != "" && c.Credential == "" {
			return fmt.Errorf("secret has credential_chain without credential: %w", ErrRejected)
		}
		c.CredentialChain = v
	}
	return nil
}

// headerSafe reports whether s is printable ASCII, as a header value must be.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// parseRoots reads one or more PEM CA certificates; anything else in the
// PEM (a private key pasted by mistake) is an error.
func parseRoots(s string) (*x509.CertPool, error) {
	rest := []byte(s)
	pool := x509.NewCertPool()
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("a PEM block of type %q, want only CERTIFICATE blocks", b.Type)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if len(bytes.TrimSpace(rest)) > 0 || n == 0 {
		return nil, errors.New("not PEM CA certificates (want -----BEGIN CERTIFICATE----- blocks)")
	}
	return pool, nil
}

// parseSigningKey decodes a base64 Ed25519 seed or private key. Its errors
// never quote the key.
func parseSigningKey(s string) (ed25519.PrivateKey, error) {
	raw, err := decodeBase64(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		key := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
		if !bytes.Equal(key[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
			return nil, errors.New("64-byte key whose public half does not match its seed")
		}
		return key, nil
	}
	return nil, fmt.Errorf("%d bytes, want a 32-byte seed or a 64-byte private key", len(raw))
}

func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if raw, err := enc.DecodeString(s); err == nil {
			return raw, nil
		}
	}
	return nil, errors.New("not base64")
}
