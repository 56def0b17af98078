package peers

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/peertest"
)

// secretMap is a SecretValues over fixed values that can change.
type secretMap struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *secretMap) SecretValue(_ context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok {
		return nil, errors.New("no such secret: " + ErrRejected.Error())
	}
	return []byte(v), nil
}

func (s *secretMap) set(id, v string) { s.mu.Lock(); s.m[id] = v; s.mu.Unlock() }

func secretJSON(t *testing.T, fields map[string]string) string {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// v1Rig is a v1 peer over TLS from its own CA and a client reading its
// secret through a SecretsCache, as the function does.
type v1Rig struct {
	peer    *peertest.V1Peer
	secrets *secretMap
	client  *Client
	p       Peer
	seed    []byte
}

func newV1Rig(t *testing.T, opts ...peertest.Option) *v1Rig {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	r := &v1Rig{seed: seed, secrets: &secretMap{m: map[string]string{}}}
	r.peer = peertest.NewV1HTTPTest(t, append([]peertest.Option{peertest.WithEnrolled("replica-1", pub),
		peertest.WithRows(peertest.Backlog(30, 1, 1, false))}, opts...)...)
	r.secrets.set("peer/v1", secretJSON(t, map[string]string{
		"api_key": "v1-api-key", "signing_key": base64.StdEncoding.EncodeToString(seed), "ca_pem": string(r.peer.CA.PEM),
	}))
	r.client = NewClient(Config{LocalID: "replica-1", Keys: NewSecretsCache(r.secrets, time.Minute, time.Now),
		BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	r.p = Peer{ID: "v1", URL: r.peer.TS.URL, SecretID: "peer/v1"}
	return r
}

func TestV1TrustedBySecretCA(t *testing.T) {
	r := newV1Rig(t)
	for range 3 {
		page, err := r.client.Fetch(context.Background(), r.p, "", 10)
		if err != nil || len(page.Rows) != 10 {
			t.Fatalf("fetch: %v", err)
		}
	}
	if h := r.peer.Handshakes.Load(); h != 1 {
		t.Errorf("%d TLS handshakes for 3 fetches, want 1 (the peer's transport is cached with its credentials)", h)
	}
	for _, rec := range r.peer.Requests() {
		if !rec.SigValid {
			t.Errorf("request %d not validly signed", rec.N)
		}
	}
}

func TestV1NoCAFailsAtOnce(t *testing.T) {
	r := newV1Rig(t)
	r.secrets.set("peer/v1", secretJSON(t, map[string]string{"signing_key": base64.StdEncoding.EncodeToString(r.seed)}))
	_, err := r.client.Fetch(context.Background(), r.p, "", 10)
	if !errors.Is(err, ErrUntrusted) || !errors.Is(err, ErrRejected) {
		t.Fatalf("err %v, want ErrUntrusted", err)
	}
	for _, want := range []string{"peer v1", "certificate", `set ca_pem in secret "peer/v1"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if h := r.peer.Handshakes.Load(); h != 1 {
		t.Errorf("%d handshakes, want 1: a certificate error is not retried", h)
	}
	// Another CA in ca_pem: still refused, and said so.
	other, err := peertest.NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	r.secrets.set("peer/v1", secretJSON(t, map[string]string{"signing_key": base64.StdEncoding.EncodeToString(r.seed), "ca_pem": string(other.PEM)}))
	r.client.cfg.Keys = NewSecretsCache(r.secrets, time.Minute, time.Now)
	if _, err := r.client.Fetch(context.Background(), r.p, "", 10); !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "does not verify against ca_pem") {
		t.Fatalf("wrong CA: %v", err)
	}
}

func TestV1NotEnrolled(t *testing.T) {
	r := newV1Rig(t)
	r.peer.EnrolKey("replica-1", nil)
	_, err := r.client.Fetch(context.Background(), r.p, "", 10)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err %v, want ErrUnauthorized", err)
	}
	for _, want := range []string{peertest.TagNoEnrolledKey, "enrol the key printed by `catchupctl identity pubkey`", "on peer v1 under id replica-1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// No signing key at all: the peer says peer_not_enrolled; we say how to make one.
	r.secrets.set("peer/v1", secretJSON(t, map[string]string{"api_key": "k", "ca_pem": string(r.peer.CA.PEM)}))
	r.client.cfg.Keys = NewSecretsCache(r.secrets, time.Minute, time.Now)
	_, err = r.client.Fetch(context.Background(), r.p, "", 10)
	if err == nil || !strings.Contains(err.Error(), peertest.TagNotEnrolled) || !strings.Contains(err.Error(), "catchupctl identity new") {
		t.Fatalf("unsigned: %v", err)
	}
}

// A wrong key costs at most 2 failed key checks per run, however many
// fetches the run makes, and the peer recovers when the key is fixed.
func TestV1WrongKeyTwoChecksPerRun(t *testing.T) {
	r := newV1Rig(t, peertest.WithAPIKey("right"))
	for run := 1; run <= 3; run++ {
		ctx := WithRun(context.Background())
		before := r.peer.FailedKeyChecks()
		for range 4 {
			if _, err := r.client.Fetch(ctx, r.p, "", 10); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("run %d: %v, want ErrUnauthorized", run, err)
			}
		}
		if n := r.peer.FailedKeyChecks() - before; n != 2 {
			t.Fatalf("run %d: %d failed key checks, want 2", run, n)
		}
	}
	// Three runs made 6 failed checks: the peer locked us out. Fix the key.
	r.secrets.set("peer/v1", secretJSON(t, map[string]string{
		"api_key": "right", "signing_key": base64.StdEncoding.EncodeToString(r.seed), "ca_pem": string(r.peer.CA.PEM),
	}))
	time.Sleep(1100 * time.Millisecond) // the first lockout lasts 1 s
	if _, err := r.client.Fetch(WithRun(context.Background()), r.p, "", 10); err != nil {
		t.Fatalf("after fixing the key: %v", err)
	}
}

func TestV1RetryAfterPastDeadline(t *testing.T) {
	r := newV1Rig(t)
	r.peer.QueueFaults(peertest.Fault{Status: 503, RetryAfter: "120", Body: []byte(`{"code":"OVERLOADED"}`)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := r.client.Fetch(ctx, r.p, "", 10)
	var later *RetryLaterError
	if !errors.As(err, &later) || !errors.Is(err, ErrUnavailable) || later.At.Before(time.Now().Add(110*time.Second)) {
		t.Fatalf("err %v, want a RetryLaterError about 120 s ahead", err)
	}
}

func TestV1Credential(t *testing.T) {
	r := newV1Rig(t)
	r.secrets.set("peer/v1", secretJSON(t, map[string]string{
		"signing_key": base64.StdEncoding.EncodeToString(r.seed), "ca_pem": string(r.peer.CA.PEM),
		"credential": "Y3JlZA", "credential_chain": "v1=Y2hhaW4",
	}))
	if _, err := r.client.Fetch(context.Background(), r.p, "", 10); err != nil {
		t.Fatal(err)
	}
	rec := r.peer.Requests()[0]
	if rec.Cred != "v1=Y3JlZA" || rec.CredChain != "v1=Y2hhaW4" {
		t.Errorf("X-Memory-Cred %q, X-Memory-Cred-Chain %q", rec.Cred, rec.CredChain)
	}
}

func TestParseSecretRejectsBadCA(t *testing.T) {
	for _, v := range []string{`{"ca_pem":"nope"}`, `{"ca_pem":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}`, `{"api_key":"k","credential":"a\nb"}`} {
		_, err := ParseSecret([]byte(v))
		if !errors.Is(err, ErrRejected) || strings.Contains(err.Error(), "AAAA") {
			t.Errorf("%s: %v", v, err)
		}
	}
}
