package peertest

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/fakeclock"
)

// v1get sends one request to a V1 peer over TLS, trusting its CA.
func v1get(t *testing.T, p *V1Peer, rawQuery string, headers map[string]string) resp {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CA.PEM)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, err := http.NewRequest(http.MethodGet, p.TS.URL+Path+"?"+rawQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header.Get("Retry-After"), body}
}

func TestV1Enrolment(t *testing.T) {
	me := signer{ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))}
	other := signer{ed25519.NewKeyFromSeed([]byte(strings.Repeat("x", ed25519.SeedSize)))}
	p := NewV1HTTPTest(t, WithEnrolled("me", me.priv.Public().(ed25519.PublicKey)), WithLockoutAfter(-1))
	query := q("since", tFrac, "peer", "me")
	nonce := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", i) }
	as := func(id string, h map[string]string) map[string]string {
		if h == nil {
			h = map[string]string{}
		}
		h["X-Peer-Id"] = id
		return h
	}
	tests := []struct {
		name    string
		headers map[string]string
		tag     string
	}{
		{"enrolled, signed", as("me", me.headers(query, nonce(1))), ""},
		{"replayed nonce", as("me", me.headers(query, nonce(1))), TagNonceReplay},
		{"unsigned stranger", as("stranger", nil), TagNotEnrolled},
		{"signed stranger", as("stranger", me.headers(query, nonce(2))), TagNoEnrolledKey},
		{"unsigned, enrolled", as("me", nil), TagV1SigMissing},
		{"other key", as("me", other.headers(query, nonce(3))), TagBadSignature},
		{"no nonce", as("me", map[string]string{"X-Memory-Sig": me.headers(query, nonce(4))["X-Memory-Sig"]}), TagNonceMissing},
		{"unknown algorithm", as("me", map[string]string{"X-Memory-Nonce": nonce(5), "X-Memory-Sig": "rsa=AAAA"}), TagUnknownAlgorithm},
		{"malformed", as("me", map[string]string{"X-Memory-Nonce": nonce(6), "X-Memory-Sig": "ed25519=@@"}), TagV1SigMalformed},
	}
	for _, tt := range tests {
		r := v1get(t, p, query, tt.headers)
		if tt.tag == "" {
			if r.status != 200 {
				t.Errorf("%s: status %d %s, want 200", tt.name, r.status, r.body)
			}
			continue
		}
		if r.status != 401 || errorOf(t, r) != tt.tag {
			t.Errorf("%s: %d %s, want 401 %s", tt.name, r.status, r.body, tt.tag)
		}
	}
}

func TestV1CapShedLockout(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	p := NewV1HTTPTest(t, WithAPIKey("k"), WithLockoutAfter(3), WithClock(clock.Now), WithShed(0.1),
		WithRows(Backlog(1500, 1, 1, false)))
	me := signer{ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))}
	p.EnrolKey("me", me.priv.Public().(ed25519.PublicKey))
	n := 0
	signed := func(query, key string) resp {
		n++
		h := me.headers(query, fmt.Sprintf("%08x-0000-4000-8000-000000000000", n))
		h["X-Peer-Id"], h["X-API-Key"] = "me", key
		return v1get(t, p, query, h)
	}
	shed := 0
	for range 100 {
		r := signed(q("limit", "5000"), "k")
		switch {
		case r.status == 503 && r.ctype == "1" && contains(r.body, "OVERLOADED"):
			shed++
		case r.status == 200:
			if env := envelopeOf(t, r); env["limit"].(float64) != V1MaxLimit || len(ids(t, env)) != V1MaxLimit {
				t.Fatalf("limit %v, %d rows, want the cap %d", env["limit"], len(ids(t, env)), V1MaxLimit)
			}
		default:
			t.Fatalf("status %d %s", r.status, r.body)
		}
	}
	if shed < 3 || shed > 25 {
		t.Errorf("%d of 100 shed, want about 10", shed)
	}
	p.set(func() { p.v1.shed = 0 })
	for i := 1; i <= 3; i++ {
		if r := signed(q(), "wrong"); r.status != 401 {
			t.Fatalf("wrong key %d: %d", i, r.status)
		}
	}
	if r := signed(q(), "k"); r.status != 429 || r.ctype != "1" || errorOf(t, r) != MsgAuthBackoff {
		t.Fatalf("after 3 failed checks: %d %q %s, want 429 auth_backoff, Retry-After 1", r.status, r.ctype, r.body)
	}
	clock.Advance(time.Second)
	if r := signed(q(), "k"); r.status != 200 {
		t.Fatalf("after the lockout: %d %s", r.status, r.body)
	}
}

func TestV1UntrustedClientNeverReachesTheHandler(t *testing.T) {
	p := NewV1HTTPTest(t)
	_, err := http.Get(p.TS.URL + Path)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("system roots: %v, want a certificate error", err)
	}
	if len(p.Requests()) != 0 || p.Handshakes.Load() != 1 {
		t.Errorf("%d requests, %d handshakes, want 0 and 1", len(p.Requests()), p.Handshakes.Load())
	}
}
