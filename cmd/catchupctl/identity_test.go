package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aimemory/catchup/internal/peers"
)

func TestIdentityNewThenPubkey(t *testing.T) {
	var secret, hint bytes.Buffer
	if err := identity([]string{"new", "-api-key", "k1"}, nil, &secret, &hint, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	creds, err := peers.ParseSecret(secret.Bytes())
	if err != nil || creds.SigningKey == nil || creds.APIKey != "k1" {
		t.Fatalf("printed secret %v, %v", creds.APIKey, err)
	}
	seed := base64.StdEncoding.EncodeToString(creds.SigningKey.Seed())
	if strings.Contains(hint.String(), seed) {
		t.Error("the hint on stderr holds the signing key")
	}
	dir := t.TempDir()
	var out bytes.Buffer
	env := func(k string) string { return map[string]string{"LOCAL_AGENT_ID": "replica-1"}[k] }
	if err := identity([]string{"pubkey", "-dir", dir}, &secret, &out, &hint, env); err != nil {
		t.Fatal(err)
	}
	pub := creds.SigningKey.Public().(ed25519.PublicKey)
	file, err := os.ReadFile(filepath.Join(dir, "replica-1.pub"))
	if err != nil || !bytes.Equal(file, pub) {
		t.Fatalf("replica-1.pub = %x (%v), want the 32-byte public key %x", file, err, pub)
	}
	if !strings.Contains(out.String(), base64.RawURLEncoding.EncodeToString(pub)+"\n") {
		t.Errorf("output %q lacks the URL-safe unpadded public key", out.String())
	}
	if strings.Contains(out.String(), seed) || strings.Contains(out.String(), "k1") {
		t.Error("pubkey printed a secret")
	}
}

func TestIdentityPubkeyErrors(t *testing.T) {
	env := func(string) string { return "" }
	for _, tt := range []struct {
		args     []string
		in, want string
	}{
		{[]string{"pubkey"}, `{"api_key":"k"}`, "-id: empty"},
		{[]string{"pubkey", "-id", "r"}, `{"api_key":"k"}`, "no signing_key"},
		{[]string{"pubkey", "-id", "r"}, `{"signing_key":"c2VjcmV0LXZhbHVl"}`, "signing_key"},
		{[]string{"bogus"}, ``, "want new or pubkey"},
	} {
		var out bytes.Buffer
		err := identity(tt.args, strings.NewReader(tt.in), &out, &out, env)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("%v %s: %v, want %q", tt.args, tt.in, err, tt.want)
		}
	}
}
