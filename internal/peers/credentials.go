package peers

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Credentials are what a peer's secret holds.
type Credentials struct {
	APIKey     string
	SigningKey ed25519.PrivateKey // nil when the secret has no signing_key
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
// key). Errors wrap ErrRejected and never quote the value.
func ParseSecret(value []byte) (Credentials, error) {
	v := bytes.TrimSpace(value)
	if len(v) == 0 {
		return Credentials{}, fmt.Errorf("secret is empty: %w", ErrRejected)
	}
	if v[0] != '{' {
		return Credentials{APIKey: string(v)}, nil
	}
	var s struct {
		APIKey     *string `json:"api_key"`
		SigningKey *string `json:"signing_key"`
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
	if c.APIKey == "" && c.SigningKey == nil {
		return Credentials{}, fmt.Errorf("secret JSON has neither api_key nor signing_key: %w", ErrRejected)
	}
	return c, nil
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
