package peers

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/fakeclock"
)

// fakeSM is an in-memory secret store, answering as awssecrets does. When hold is set, the first call
// waits for it to close (or for its context); entered signals each call.
type fakeSM struct {
	mu      sync.Mutex
	values  map[string]string
	errs    map[string]error
	calls   int
	hold    chan struct{}
	entered chan struct{}
}

func newFakeSM(values map[string]string) *fakeSM {
	return &fakeSM{values: values, errs: map[string]error{}}
}

func (f *fakeSM) SecretValue(ctx context.Context, id string) ([]byte, error) {
	f.mu.Lock()
	f.calls++
	first, hold, entered := f.calls == 1, f.hold, f.entered
	f.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if first && hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ctx.Err(), ErrUnavailable)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.errs[id]; err != nil {
		return nil, err
	}
	v, ok := f.values[id]
	if !ok {
		return nil, fmt.Errorf("ResourceNotFoundException: Secrets Manager can't find the specified secret: %w", ErrRejected)
	}
	return []byte(v), nil
}

func (f *fakeSM) set(id, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[id] = value
}

func (f *fakeSM) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestSecretsCacheTTLAndFresh(t *testing.T) {
	sm := newFakeSM(map[string]string{"s": "k1"})
	clk := fakeclock.New(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	c := NewSecretsCache(sm, time.Minute, clk.Now)
	ctx := context.Background()
	steps := []struct {
		name      string
		advance   time.Duration
		rotate    string
		fresh     bool
		wantKey   string
		wantCalls int
	}{
		{"first call fetches", 0, "", false, "k1", 1},
		{"within the TTL: cached", 59 * time.Second, "", false, "k1", 1},
		{"rotated, still cached", 0, "k2", false, "k1", 1},
		{"fresh bypasses the cache", 0, "", true, "k2", 2},
		{"fresh value is cached", 30 * time.Second, "k3", false, "k2", 2},
		{"expired: fetched again", 31 * time.Second, "", false, "k3", 3},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		if s.rotate != "" {
			sm.set("s", s.rotate)
		}
		got, err := c.Credentials(ctx, "s", s.fresh)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got.APIKey != s.wantKey || sm.count() != s.wantCalls {
			t.Errorf("%s: key %q after %d calls, want %q after %d", s.name, got.APIKey, sm.count(), s.wantKey, s.wantCalls)
		}
	}
}

func TestSecretsCacheZeroTTLAlwaysFetches(t *testing.T) {
	sm := newFakeSM(map[string]string{"s": "k"})
	c := NewSecretsCache(sm, 0, time.Now)
	for i := 0; i < 3; i++ {
		if _, err := c.Credentials(context.Background(), "s", false); err != nil {
			t.Fatal(err)
		}
	}
	if sm.count() != 3 {
		t.Errorf("%d calls, want 3", sm.count())
	}
}

func TestSecretsCacheSingleFlight(t *testing.T) {
	sm := newFakeSM(map[string]string{"s": "k"})
	sm.hold = make(chan struct{})
	sm.entered = make(chan struct{}, 100)
	c := NewSecretsCache(sm, time.Minute, time.Now)
	var wg sync.WaitGroup
	keys := make([]string, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			creds, err := c.Credentials(context.Background(), "s", false)
			if err != nil {
				t.Error(err)
			}
			keys[i] = creds.APIKey
		}()
	}
	<-sm.entered
	time.Sleep(20 * time.Millisecond) // let the others join the flight
	close(sm.hold)
	wg.Wait()
	if sm.count() != 1 {
		t.Errorf("%d calls for 8 concurrent callers, want 1", sm.count())
	}
	if diff := cmp.Diff([]string{"k", "k", "k", "k", "k", "k", "k", "k"}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func TestSecretsCacheFreshDoesNotJoinOlderFetch(t *testing.T) {
	sm := newFakeSM(map[string]string{"s": "old"})
	sm.hold = make(chan struct{})
	sm.entered = make(chan struct{}, 10)
	c := NewSecretsCache(sm, time.Minute, time.Now)
	done := make(chan string)
	go func() {
		creds, _ := c.Credentials(context.Background(), "s", false)
		done <- creds.APIKey
	}()
	<-sm.entered // the first fetch is in the air, holding "old" in spirit
	sm.set("s", "new")
	creds, err := c.Credentials(context.Background(), "s", true)
	if err != nil {
		t.Fatal(err)
	}
	close(sm.hold)
	<-done
	if creds.APIKey != "new" || sm.count() != 2 {
		t.Errorf("fresh got %q after %d calls, want %q after 2", creds.APIKey, sm.count(), "new")
	}
}

func TestSecretsCacheLeaderCanceled(t *testing.T) {
	sm := newFakeSM(map[string]string{"s": "k"})
	sm.hold = make(chan struct{}) // the first call waits until its context ends
	sm.entered = make(chan struct{}, 10)
	c := NewSecretsCache(sm, time.Minute, time.Now)
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error)
	go func() {
		_, err := c.Credentials(leaderCtx, "s", false)
		leaderErr <- err
	}()
	<-sm.entered
	waiter := make(chan Credentials)
	go func() {
		creds, _ := c.Credentials(context.Background(), "s", false)
		waiter <- creds
	}()
	time.Sleep(20 * time.Millisecond) // let the waiter join
	cancel()
	if err := <-leaderErr; !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("leader: %v, want ErrUnavailable and context.Canceled", err)
	}
	if got := <-waiter; got.APIKey != "k" {
		t.Errorf("waiter got %q, want k: the leader's cancellation is not the waiter's", got.APIKey)
	}
}

func TestSecretsCacheErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"rejected", fmt.Errorf("AccessDeniedException: %w", ErrRejected), ErrRejected},
		{"unavailable", fmt.Errorf("ThrottlingException: %w", ErrUnavailable), ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := newFakeSM(map[string]string{"s": "k"})
			sm.errs["s"] = tt.err
			c := NewSecretsCache(sm, time.Minute, time.Now)
			for i := 1; i <= 2; i++ {
				_, err := c.Credentials(context.Background(), "s", false)
				if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), `secret "s"`) {
					t.Errorf("call %d: %v, want %v naming the secret", i, err, tt.want)
				}
			}
			if sm.count() != 2 {
				t.Errorf("%d calls, want 2: failures are not cached", sm.count())
			}
		})
	}
}

func TestParseSecret(t *testing.T) {
	key := testSigningKey()
	seed := key.Seed()
	badPair := append(append([]byte{}, seed...), make([]byte, 32)...)
	tests := []struct {
		name    string
		value   string
		wantKey string
		wantSig ed25519.PrivateKey
		wantErr string
	}{
		{"plain", "sk-live-1", "sk-live-1", nil, ""},
		{"plain with newline", "  sk-live-1\n", "sk-live-1", nil, ""},
		{"json api_key", `{"api_key":"sk-live-1"}`, "sk-live-1", nil, ""},
		{"json extra keys", `{"api_key":"sk-live-1","note":"rotated 2026"}`, "sk-live-1", nil, ""},
		{"seed std base64", `{"api_key":"k","signing_key":"` + base64.StdEncoding.EncodeToString(seed) + `"}`, "k", key, ""},
		{"seed raw url base64", `{"api_key":"k","signing_key":"` + base64.RawURLEncoding.EncodeToString(seed) + `"}`, "k", key, ""},
		{"private key 64 bytes", `{"api_key":"k","signing_key":"` + base64.StdEncoding.EncodeToString(key) + `"}`, "k", key, ""},
		{"signing key only", `{"signing_key":"` + base64.StdEncoding.EncodeToString(seed) + `"}`, "", key, ""},
		{"64 bytes that do not match", `{"api_key":"k","signing_key":"` + base64.StdEncoding.EncodeToString(badPair) + `"}`, "", nil,
			"secret signing_key: 64-byte key whose public half does not match its seed: peer rejected the request"},
		{"wrong size", `{"api_key":"k","signing_key":"` + base64.StdEncoding.EncodeToString(seed[:16]) + `"}`, "", nil,
			"secret signing_key: 16 bytes, want a 32-byte seed or a 64-byte private key: peer rejected the request"},
		{"not base64", `{"api_key":"k","signing_key":"sk-live-1!!"}`, "", nil, "secret signing_key: not base64: peer rejected the request"},
		{"empty", " \n", "", nil, "secret is empty: peer rejected the request"},
		{"empty object", `{}`, "", nil, "secret JSON has neither api_key nor signing_key: peer rejected the request"},
		{"broken JSON", `{"api_key":"sk-live-1"`, "", nil, "secret starts with '{' but is not a JSON object of strings: peer rejected the request"},
		{"api_key a number", `{"api_key":12345}`, "", nil, "secret starts with '{' but is not a JSON object of strings: peer rejected the request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecret([]byte(tt.value))
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
				if !errors.Is(err, ErrRejected) {
					t.Errorf("error %v does not wrap ErrRejected", err)
				}
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if got.APIKey != tt.wantKey || !got.SigningKey.Equal(tt.wantSig) {
				t.Errorf("got key %q signing %x, want %q %x", got.APIKey, got.SigningKey, tt.wantKey, tt.wantSig)
			}
		})
	}
}
