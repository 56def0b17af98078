package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// start runs fakepeer with args and returns its URL and a stop func that
// reports run's error.
func start(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, args, pw, io.Discard); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no URL line: %v (run: %v)", err, <-errc)
	}
	go io.Copy(io.Discard, pr)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") && !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("first line %q, want listening http(s)://127.0.0.1:PORT", line)
	}
	t.Cleanup(cancel)
	return url, func() error {
		cancel()
		select {
		case err := <-errc:
			return err
		case <-time.After(5 * time.Second):
			return context.DeadlineExceeded
		}
	}
}

func TestServesSample(t *testing.T) {
	url, stop := start(t, "-rows", "30", "-generation", "v0.7", "-api-key", "k", "-seed", "4", "-ties", "3")
	req, _ := http.NewRequest("GET", url+"/api/v1/sync/since?limit=100", nil)
	req.Header.Set("X-API-Key", "k")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Memories    []map[string]any `json:"memories"`
		NextSince   *string          `json:"next_since"`
		ScopeStatus string           `json:"scope_status"`
	}
	err = json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, decode %v", res.StatusCode, err)
	}
	if len(page.Memories) != 30 || page.ScopeStatus == "" || page.NextSince != nil {
		t.Errorf("%d rows, scope_status %q, next_since %v: want 30 rows of a v0.7 page", len(page.Memories), page.ScopeStatus, page.NextSince)
	}
	res, err = http.Get(url + "/api/v1/sync/since")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("without the key: status %d, want 401", res.StatusCode)
	}
	if err := stop(); err != nil {
		t.Errorf("run after cancel: %v", err)
	}
}

func TestSigningKeyFlag(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	url, stop := start(t, "-signing-key", base64.StdEncoding.EncodeToString(seed))
	defer stop()
	res, err := http.Get(url + "/api/v1/sync/since")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("unsigned request: status %d, want 401", res.StatusCode)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-addr", "192.0.2.1:80"},
		{"-generation", "v0.5"},
		{"-rows", "-1"},
		{"-signing-key", "c2hvcnQ="},
		{"-key-dir", t.TempDir()},                              // not a v1 peer
		{"-generation", "v1", "-key-dir", "/nonexistent/keys"}, // no such directory
		{"-tls-ca", "/nonexistent/dir/ca.pem"},                 // cannot write the CA
		{"extra"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

// TestV1OverTLS: -tls-ca serves HTTPS from a CA whose PEM lands in the file,
// and -key-dir enrols a caller once its .pub is copied in, while running.
func TestV1OverTLS(t *testing.T) {
	dir := t.TempDir()
	caFile, keys := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "keys")
	if err := os.Mkdir(keys, 0o755); err != nil {
		t.Fatal(err)
	}
	url, stop := start(t, "-generation", "v1", "-rows", "5", "-tls-ca", caFile, "-key-dir", keys)
	defer stop()
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("URL %q, want https", url)
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("-tls-ca file holds no certificate: %q", pemBytes)
	}
	if _, err := http.Get(url + "/api/v1/sync/since"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("client without the CA: err %v, want a certificate error", err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	priv := ed25519.NewKeyFromSeed(seed)
	get := func(nonce string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+"/api/v1/sync/since?limit=10&peer=demo-replica", nil)
		req.Header.Set("X-Peer-Id", "demo-replica")
		req.Header.Set("X-Memory-Nonce", nonce)
		msg := "GET\n" + req.URL.EscapedPath() + "\n" + req.URL.RawQuery + "\x00" + nonce
		req.Header.Set("X-Memory-Sig", "ed25519="+base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(msg))))
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if code, body := get("6f1c1a52-5d0e-4b7a-9c1e-2f3a4b5c6d7e"); code != 401 || !strings.Contains(body, "no_enrolled_key") {
		t.Errorf("before enrolment: %d %s, want 401 x_memory_sig_no_enrolled_key", code, body)
	}
	pub := priv.Public().(ed25519.PublicKey)
	if err := os.WriteFile(filepath.Join(keys, "demo-replica.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := get("7a2d2b63-6e1f-4c8b-8d2f-3a4b5c6d7e8f"); code != 200 || !strings.Contains(body, `"memories"`) {
		t.Errorf("after enrolment: %d %s, want 200 with memories", code, body)
	}
	if err := os.WriteFile(filepath.Join(keys, "demo-replica.pub"), []byte("not a key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("8b3e3c74-7f20-4d9c-9e30-4b5c6d7e8f90"); code != 401 {
		t.Errorf("with a malformed .pub: status %d, want 401", code)
	}
}
