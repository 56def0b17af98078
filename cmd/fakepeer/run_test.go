package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
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
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q, want listening http://127.0.0.1:PORT", line)
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
		{"extra"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
