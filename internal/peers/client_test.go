package peers

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sleeps records the waits of a client instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// testClient is a client whose waits take no time and whose jitter always
// picks the ceiling, so that tests can assert the schedule.
func testClient(cfg Config) (*Client, *sleeps) {
	if cfg.LocalID == "" {
		cfg.LocalID = "replica:one"
	}
	c := NewClient(cfg)
	s := &sleeps{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		s.mu.Lock()
		s.d = append(s.d, d)
		s.mu.Unlock()
		return ctx.Err()
	}
	c.jitter = func(max time.Duration) time.Duration { return max }
	return c, s
}

// staticKeys is a KeySource over a fixed map that counts fresh calls.
type staticKeys struct {
	mu    sync.Mutex
	creds map[string]Credentials
	fresh int
}

func (k *staticKeys) Credentials(_ context.Context, id string, fresh bool) (Credentials, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if fresh {
		k.fresh++
	}
	c, ok := k.creds[id]
	if !ok {
		return Credentials{}, errors.New("no such secret")
	}
	return c, nil
}

func TestFetchQueryEncoding(t *testing.T) {
	tests := []struct {
		name, since, localID, wantQuery string
	}{
		{"first pull omits since", "", "replica:one", "peer=replica%3Aone&limit=7"},
		{"offset plus", "2026-06-01T10:00:05.5+00:00", "a", "since=2026-06-01T10%3A00%3A05.5%2B00%3A00&peer=a&limit=7"},
		{"Z", "2026-06-01T10:00:05Z", "a", "since=2026-06-01T10%3A00%3A05Z&peer=a&limit=7"},
		{"space separator", "2026-06-01 10:00:05Z", "a b", "since=2026-06-01%2010%3A00%3A05Z&peer=a%20b&limit=7"},
		{"unreserved kept", "2026-06-01T10:00:05Z", "A-z_0.9~", "since=2026-06-01T10%3A00%3A05Z&peer=A-z_0.9~&limit=7"},
		{"utf-8 and reserved", "2026-06-01T10:00:05Z", "é&=/?#%", "since=2026-06-01T10%3A00%3A05Z&peer=%C3%A9%26%3D%2F%3F%23%25&limit=7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakePeer(t, newest)
			c, _ := testClient(Config{LocalID: tt.localID})
			if _, err := c.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL}, tt.since, 7); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			r := f.requests()[0]
			if diff := cmp.Diff(tt.wantQuery, r.URL.RawQuery); diff != "" {
				t.Errorf("raw query (-want +got):\n%s", diff)
			}
			// The server form-decodes: what it reads must be what we meant.
			if got := r.URL.Query().Get("peer"); got != tt.localID {
				t.Errorf("server read peer=%q, want %q", got, tt.localID)
			}
			if diff := cmp.Diff([]string{tt.since}, f.sinces()); diff != "" {
				t.Errorf("server read since (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEscapeEveryByte(t *testing.T) {
	for b := 0; b < 256; b++ {
		s := string([]byte{byte(b)})
		got := escape(s)
		want := s
		if !isUnreserved(byte(b)) {
			want = "%" + strings.ToUpper(hex2(byte(b)))
		}
		if got != want {
			t.Errorf("escape(%q) = %q, want %q", s, got, want)
		}
	}
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

func TestFetchHeaders(t *testing.T) {
	tests := []struct {
		name    string
		peer    Peer
		keys    KeySource
		wantKey []string // values of X-API-Key; nil = header absent
	}{
		{"key from the secret", Peer{ID: "p", SecretID: "s1"},
			&staticKeys{creds: map[string]Credentials{"s1": {APIKey: "k-123"}}}, []string{"k-123"}},
		{"no secret id", Peer{ID: "p"},
			&staticKeys{creds: map[string]Credentials{"s1": {APIKey: "k-123"}}}, nil},
		{"no key source", Peer{ID: "p", SecretID: "s1"}, nil, nil},
		{"secret with signing key only", Peer{ID: "p", SecretID: "s1"},
			&staticKeys{creds: map[string]Credentials{"s1": {SigningKey: testSigningKey()}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakePeer(t, v06)
			c, _ := testClient(Config{LocalID: "replica:one", Keys: tt.keys})
			tt.peer.URL = srv.URL
			if _, err := c.Fetch(context.Background(), tt.peer, "", 10); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			h := f.requests()[0].Header
			want := map[string][]string{
				"X-Agent-Id": {"replica:one"}, "X-Peer-Id": {"replica:one"},
				"Accept": {"application/json"}, "X-Api-Key": tt.wantKey,
			}
			got := map[string][]string{}
			for k := range want {
				got[k] = h.Values(k)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

func testSigningKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
}

func TestFetchSigned(t *testing.T) {
	key := testSigningKey()
	f, srv := newFakePeer(t, newest)
	f.pub = key.Public().(ed25519.PublicKey)
	f.add("m1", "2026-06-01T10:00:00+00:00", 0)
	keys := &staticKeys{creds: map[string]Credentials{"s": {APIKey: "k", SigningKey: key}}}
	c, _ := testClient(Config{Keys: keys})
	// A base URL with a path prefix: the signature covers the full path.
	mux := http.NewServeMux()
	mux.Handle("/prefix/", http.StripPrefix("/prefix", f))
	prefixed := httptest.NewServer(mux)
	defer prefixed.Close()
	for _, base := range []string{srv.URL, prefixed.URL + "/prefix"} {
		page, err := c.Fetch(context.Background(), Peer{ID: "p", URL: base, SecretID: "s"}, "2026-01-01T00:00:00+00:00", 5)
		if err != nil {
			t.Fatalf("Fetch %s: %v", base, err)
		}
		if len(page.Rows) != 1 {
			t.Errorf("Fetch %s: %d rows, want 1", base, len(page.Rows))
		}
	}
	reqs := f.requests()
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if n0, n1 := reqs[0].Header.Get("X-Memory-Nonce"), reqs[1].Header.Get("X-Memory-Nonce"); !uuid4.MatchString(n0) || n0 == n1 {
		t.Errorf("nonces %q, %q: want two distinct UUIDv4", n0, n1)
	}
}

func TestFetchSignatureRejectedByWrongKey(t *testing.T) {
	f, srv := newFakePeer(t, newest)
	other := ed25519.NewKeyFromSeed(make([]byte, 32))
	f.pub = other.Public().(ed25519.PublicKey)
	keys := &staticKeys{creds: map[string]Credentials{"s": {SigningKey: testSigningKey()}}}
	c, _ := testClient(Config{Keys: keys})
	_, err := c.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL, SecretID: "s"}, "", 5)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("Fetch: %v, want ErrRejected", err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (one retry with a fresh key)", n)
	}
}

func TestFetchReusesConnections(t *testing.T) {
	f := &fakePeer{t: t, gen: newest}
	f.add("m1", "2026-06-01T10:00:00Z", 0)
	// Error answers with bodies too: they must be drained for reuse.
	f.hook = script(nil, status(500, "", strings.Repeat("e", 4000)), nil, status(404, "", strings.Repeat("n", 4000)), nil)
	srv := httptest.NewUnstartedServer(f)
	var mu sync.Mutex
	conns := 0
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	c, _ := testClient(Config{})
	p := Peer{ID: "p", URL: srv.URL}
	for i := 0; i < 4; i++ {
		_, _ = c.Fetch(context.Background(), p, "", 10)
	}
	if n := len(f.requests()); n != 5 {
		t.Fatalf("%d requests, want 5", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 {
		t.Errorf("%d connections for 5 sequential requests, want 1", conns)
	}
}
