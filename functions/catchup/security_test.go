package main

// Secrets never leave the process: API keys and signing keys appear in no
// log line, report, metric or error, however peers fail, even peers that
// echo the key back. And a peer URL over plain http is refused unless its
// host is loopback.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/config"
	"github.com/aimemory/catchup/internal/peertest"
)

// secretSet is the key material of the test, and every form of it that
// must never be seen.
type secretSet struct {
	apiKey, otherKey string
	signing          ed25519.PrivateKey
	seedB64          string
}

func newSecretSet(t *testing.T) secretSet {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	key := make([]byte, 24)
	rand.Read(key)
	other := make([]byte, 24)
	rand.Read(other)
	return secretSet{
		apiKey:   "sk" + hex.EncodeToString(key),
		otherKey: "sk" + hex.EncodeToString(other),
		signing:  ed25519.NewKeyFromSeed(seed),
		seedB64:  base64.StdEncoding.EncodeToString(seed),
	}
}

// forms lists the strings that would betray a secret.
func (s secretSet) forms() map[string]string {
	seed := s.signing.Seed()
	return map[string]string{
		"api key":                       s.apiKey,
		"api key of a malformed secret": s.otherKey,
		"signing seed (base64)":         s.seedB64,
		"signing seed (base64url)":      base64.RawURLEncoding.EncodeToString(seed),
		"signing key (base64)":          base64.StdEncoding.EncodeToString(s.signing),
		"signing seed (hex)":            hex.EncodeToString(seed),
	}
}

// echoingPeers are peers that fail in every way the client maps, most of
// them quoting the API key back.
func echoingPeers(t *testing.T, s secretSet) map[string]string {
	t.Helper()
	echo := fmt.Sprintf("request had X-API-Key: %s and we did not like it", s.apiKey)
	serve := func(f peertest.Fault) string {
		srv, ts := peertest.NewHTTPTest(t, peertest.WithAPIKey(s.apiKey), peertest.WithVerifyKey(s.signing.Public().(ed25519.PublicKey)),
			peertest.WithRows(peertest.Sample(12, 9, 2)))
		if !f.IsZero() {
			srv.SetFaultFunc(func(*http.Request, int) peertest.Fault { return f })
		}
		return ts.URL
	}
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/?key="+r.Header.Get("X-API-Key"), http.StatusFound)
	}))
	t.Cleanup(redirect.Close)
	return map[string]string{
		"good":        serve(peertest.Fault{}),
		"echo-401":    serve(peertest.Fault{Status: 401, Body: []byte(`{"error":"` + echo + `"}`)}),
		"echo-403":    serve(peertest.Fault{Status: 403, Body: []byte(echo), ContentType: "text/plain"}),
		"echo-500":    serve(peertest.Fault{Status: 500, Body: []byte(strings.Repeat("p", 170) + echo)}), // the key straddles the 200-byte snippet
		"echo-200":    serve(peertest.Fault{Body: []byte("<html>" + echo + "</html>"), ContentType: "text/html"}),
		"oversized":   serve(peertest.Oversized(2 << 20)),
		"hangup":      serve(peertest.Hangup()),
		"redirect":    redirect.URL,
		"unreachable": "http://127.0.0.1:1",
	}
}

func TestSecretsNeverLeak(t *testing.T) {
	cfg := awsConfig(t)
	s := newSecretSet(t)
	suffix := fmt.Sprint(time.Now().UnixNano())
	good, malformed := "sec/good-"+suffix, "sec/malformed-"+suffix
	createSecret(t, cfg, good, fmt.Sprintf(`{"api_key":%q,"signing_key":%q}`, s.apiKey, s.seedB64))
	createSecret(t, cfg, malformed, fmt.Sprintf(`{"api_key":%q,"signing_key":"%s!!not base64"}`, s.otherKey, s.seedB64))
	var ps []map[string]string
	for id, url := range echoingPeers(t, s) {
		ps = append(ps, map[string]string{"id": id, "url": url, "secret_id": good})
	}
	_, ts := peertest.NewHTTPTest(t)
	ps = append(ps,
		map[string]string{"id": "malformed-secret", "url": ts.URL, "secret_id": malformed},
		map[string]string{"id": "missing-secret", "url": ts.URL, "secret_id": "sec/none-" + suffix})
	peersJSON, _ := json.Marshal(ps)
	a, logs := newPassApp(t, opsEnv(string(peersJSON), map[string]string{
		"PEER_REGISTRY": "false", "MAX_RESPONSE_BYTES": "1048576", "REQUEST_TIMEOUT": "2s",
	}))
	metrics := &bytes.Buffer{}
	a.Metrics = metrics
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := a.Handle(ctx, json.RawMessage(`{}`))
	rep, _ := res.(*catchup.Report)
	if rep == nil {
		t.Fatalf("no report: %v", err)
	}
	checkStatuses(t, rep)
	report, _ := json.Marshal(res)
	out := map[string]string{"logs": logs.String(), "report": string(report), "metrics": metrics.String()}
	if err != nil {
		out["error"] = err.Error()
	}
	for where, text := range out {
		for what, secret := range s.forms() {
			if strings.Contains(text, secret) {
				t.Errorf("the %s hold the %s", where, what)
			}
		}
	}
}

// checkStatuses makes sure every failure above really happened, so that
// the absence of a secret means something.
func checkStatuses(t *testing.T, rep *catchup.Report) {
	t.Helper()
	want := map[string]string{
		"good": "caught_up/", "echo-401": "failed/rejected", "echo-403": "failed/rejected",
		"echo-500": "failed/unreachable", "echo-200": "failed/bad_response", "oversized": "failed/bad_response",
		"hangup": "failed/unreachable", "redirect": "failed/rejected", "unreachable": "failed/unreachable",
		"malformed-secret": "failed/rejected", "missing-secret": "failed/rejected",
	}
	for _, p := range rep.Peers {
		if got := p.Status + "/" + p.ErrorClass; got != want[p.Peer] {
			t.Errorf("%s: %s (%s), want %s", p.Peer, got, p.Error, want[p.Peer])
		}
		// The echoed key reached the error, and was cut out of it.
		if strings.HasPrefix(p.Peer, "echo-") && p.Peer != "echo-200" && !strings.Contains(p.Error, "[redact") {
			t.Errorf("%s: error %q does not show the echoed key redacted", p.Peer, p.Error)
		}
	}
}

func TestPlainHTTPPeerRefusedUnlessLoopback(t *testing.T) {
	env := func(url string) map[string]string {
		return map[string]string{
			"LOCAL_AGENT_ID": "me", "MEMORIES_TABLE": "m", "STATE_TABLE": "s", "PEER_REGISTRY": "false",
			"PEERS": fmt.Sprintf(`[{"id":"p","url":%q}]`, url),
		}
	}
	for _, url := range []string{
		"https://peer.example", "http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:3000",
		"http://[::1]:8080", "http://LOCALHOST.",
	} {
		if _, err := config.Load(mapEnv(env(url))); err != nil {
			t.Errorf("%s refused: %v", url, err)
		}
	}
	for _, url := range []string{
		"http://peer.example", "http://10.0.0.5:8080", "http://169.254.169.254/latest", "http://localhost.evil.example",
		"http://127.0.0.1.nip.io", "http://0.0.0.0:8080", "http://[::]:80", "ftp://127.0.0.1", "http://user:hunter2@127.0.0.1",
	} {
		_, err := config.Load(mapEnv(env(url)))
		switch {
		case err == nil:
			t.Errorf("%s accepted", url)
		case !strings.HasPrefix(err.Error(), "PEERS: "):
			t.Errorf("%s: error %q does not name PEERS", url, err)
		case strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%s: error %q echoes the password", url, err)
		}
	}
}
