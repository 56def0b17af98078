package peers

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFetch401RotatesKeyOnce(t *testing.T) {
	tests := []struct {
		name      string
		peerKey   string // what the peer accepts after the rotation
		wantErr   error
		wantReqs  int
		wantCalls int // Secrets Manager calls
	}{
		{"rotated key accepted", "k2", nil, 2, 2},
		{"still refused after a fresh key", "k3", ErrRejected, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakePeer(t, newest)
			f.add("m1", "2026-06-01T10:00:00Z", 0)
			sm := newFakeSM(map[string]string{"s": `{"api_key":"k1"}`})
			keys := NewSecretsCache(sm, time.Hour, time.Now)
			c, sl := testClient(Config{Keys: keys})
			p := Peer{ID: "p", URL: srv.URL, SecretID: "s"}
			f.key = "k1"
			if _, err := c.Fetch(context.Background(), p, "", 10); err != nil {
				t.Fatalf("before the rotation: %v", err)
			}
			sm.set("s", `{"api_key":"k2"}`) // the operator rotates the key...
			f.mu.Lock()
			f.key = tt.peerKey // ...and the peer follows
			f.reqs = nil
			f.mu.Unlock()
			_, err := c.Fetch(context.Background(), p, "", 10)
			checkErr(t, err, tt.wantErr)
			reqs := f.requests()
			if len(reqs) != tt.wantReqs || sm.count() != tt.wantCalls {
				t.Fatalf("%d requests, %d secret fetches; want %d, %d", len(reqs), sm.count(), tt.wantReqs, tt.wantCalls)
			}
			if got := []string{reqs[0].Header.Get("X-API-Key"), reqs[1].Header.Get("X-API-Key")}; got[0] != "k1" || got[1] != "k2" {
				t.Errorf("keys sent %q, want the cached k1 then the fresh k2", got)
			}
			if len(sl.all()) != 0 {
				t.Errorf("slept %v before a rotation retry", sl.all())
			}
		})
	}
}

func TestFetchKeySourceErrors(t *testing.T) {
	f, srv := newFakePeer(t, v07)
	sm := newFakeSM(map[string]string{})
	c, _ := testClient(Config{Keys: NewSecretsCache(sm, time.Hour, time.Now)})
	_, err := c.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL, SecretID: "missing"}, "", 10)
	checkErr(t, err, ErrRejected)
	// A KeySource of unknown make: its error is made retryable.
	c2, _ := testClient(Config{Keys: &staticKeys{}})
	_, err = c2.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL, SecretID: "x"}, "", 10)
	checkErr(t, err, ErrUnavailable)
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests without credentials, want 0", n)
	}
}

// TestErrorsNeverHoldSecrets drives every failure path with a peer that
// echoes whatever it receives, and checks that no error carries the key.
func TestErrorsNeverHoldSecrets(t *testing.T) {
	const apiKey = "sk-live-SUPERSECRET-0123456789"
	signing := testSigningKey()
	secrets := []string{
		apiKey, base64.StdEncoding.EncodeToString(signing.Seed()),
		base64.StdEncoding.EncodeToString(signing), hex.EncodeToString(signing.Seed()), "hunter2",
	}
	echo := func(code int) step {
		return func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(code)
			fmt.Fprintf(w, "you sent %s with %s %s", r.Header.Get("X-API-Key"), r.Header, r.URL)
			return true
		}
	}
	var errs []error
	for _, s := range []step{echo(400), echo(401), echo(403), echo(500), echo(429), reset, cutBody(`{"memories":["` + apiKey), status(200, "", apiKey)} {
		f, srv := newFakePeer(t, newest)
		f.hook = script(s, s, s)
		keys := &staticKeys{creds: map[string]Credentials{"s": {APIKey: apiKey, SigningKey: signing}}}
		c, _ := testClient(Config{Keys: keys, MaxAttempts: 2})
		_, err := c.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL, SecretID: "s"}, "", 10)
		errs = append(errs, err)
	}
	sm := newFakeSM(map[string]string{
		"json":  `{"api_key":"` + apiKey + `","signing_key":"hunter2"}`,
		"trunc": `{"api_key":"` + apiKey + `"`,
		"num":   `{"api_key":"` + apiKey + `","signing_key":12}`,
	})
	cache := NewSecretsCache(sm, time.Hour, time.Now)
	for _, id := range []string{"json", "trunc", "num"} {
		_, err := cache.Credentials(context.Background(), id, false)
		errs = append(errs, err)
	}
	_, err := ParsePeers(`[{"id":"a","url":"https://u:hunter2@a.example.com/"}]`)
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("case %d: error %q holds a secret", i, err)
			}
		}
		if !errors.Is(err, ErrRejected) && !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrBadResponse) && !strings.Contains(err.Error(), "url") {
			t.Errorf("case %d: error %v is not classified", i, err)
		}
	}
}

func TestBodySnippetRedactsWholeKeys(t *testing.T) {
	const key = "sk-0123456789abcdefghij" // longer than "[redacted]"
	for lead := 0; lead < 260; lead++ {
		// Many keys first, so that redaction shortens the text, then one
		// key straddling every possible end of the window.
		body := strings.Repeat(key+" ", 3) + strings.Repeat("x", lead) + key + " tail"
		got := bodySnippet(strings.NewReader(body), key)
		for n := 4; n <= len(key); n++ {
			if strings.Contains(got, key[:n]) {
				t.Fatalf("lead %d: snippet %q holds %d bytes of the key", lead, got, n)
			}
		}
		if len(got) > maxSnippet {
			t.Fatalf("lead %d: snippet of %d bytes", lead, len(got))
		}
	}
}
