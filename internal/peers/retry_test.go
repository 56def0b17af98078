package peers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// step answers one request of a scripted peer; false lets the fake peer
// answer normally.
type step func(w http.ResponseWriter, r *http.Request) bool

// script answers the n-th request with steps[n-1], then normally.
func script(steps ...step) func(int, http.ResponseWriter, *http.Request) bool {
	return func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > len(steps) || steps[n-1] == nil {
			return false
		}
		return steps[n-1](w, r)
	}
}

func status(code int, retryAfter, body string) step {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		fmt.Fprint(w, body)
		return true
	}
}

// reset drops the connection without an answer.
func reset(w http.ResponseWriter, _ *http.Request) bool {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
	return true
}

// cutBody promises a body longer than it sends, then drops the connection.
func cutBody(body string) step {
	return func(w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)+100))
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, body)
		return true
	}
}

// slow answers after d, too late for a short per-attempt timeout.
func slow(d time.Duration) step {
	return func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
		return false
	}
}

// stall sends the start of a body, then nothing until the client gives up.
func stall(w http.ResponseWriter, r *http.Request) bool {
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, `{"memories":[`)
	w.(http.Flusher).Flush()
	select {
	case <-time.After(5 * time.Second):
	case <-r.Context().Done():
	}
	return true
}

func TestFetchRetries(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name       string
		steps      []step
		cfg        Config
		wantErr    error // nil: success
		wantReqs   int
		wantSleeps []time.Duration
	}{
		{"429 honors Retry-After seconds", []step{status(429, "3", ""), nil}, Config{}, nil, 2, []time.Duration{3 * time.Second}},
		{"500 then ok", []step{status(500, "", "db locked")}, Config{}, nil, 2, []time.Duration{200 * ms}},
		{"502 503 503 then ok, doubling", []step{status(502, "", ""), status(503, "", ""), status(503, "", "")},
			Config{}, nil, 4, []time.Duration{200 * ms, 400 * ms, 800 * ms}},
		{"backoff capped", []step{status(500, "", ""), status(500, "", ""), status(500, "", "")},
			Config{MaxBackoff: 300 * ms}, nil, 4, []time.Duration{200 * ms, 300 * ms, 300 * ms}},
		{"connection reset then ok", []step{reset}, Config{}, nil, 2, []time.Duration{200 * ms}},
		{"body cut short then ok", []step{cutBody(`{"memories":[{"id":"a"`)}, Config{}, nil, 2, []time.Duration{200 * ms}},
		{"attempt timeout then ok", []step{slow(2 * time.Second)}, Config{Timeout: 100 * ms}, nil, 2, []time.Duration{200 * ms}},
		{"body stalls then ok", []step{stall}, Config{Timeout: 100 * ms}, nil, 2, []time.Duration{200 * ms}},
		{"500 until attempts are spent", []step{status(500, "", ""), status(500, "", ""), status(500, "", "")},
			Config{MaxAttempts: 3}, ErrUnavailable, 3, []time.Duration{200 * ms, 400 * ms}},
		{"body always cut short", []step{cutBody(`{"memories":[`), cutBody(`{"memories":[`)},
			Config{MaxAttempts: 2}, ErrUnavailable, 2, []time.Duration{200 * ms}},
		{"400 not retried", []step{status(400, "", `{"error":"invalid since"}`)}, Config{}, ErrRejected, 1, nil},
		{"403 not retried", []step{status(403, "", "forbidden")}, Config{}, ErrRejected, 1, nil},
		{"404 not retried", []step{status(404, "", "")}, Config{}, ErrRejected, 1, nil},
		{"401 without a secret not retried", []step{status(401, "", `{"error":"missing or invalid API key"}`)}, Config{}, ErrRejected, 1, nil},
		{"redirect not followed", []step{func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
			return true
		}}, Config{}, ErrRejected, 1, nil},
		{"204 is a bad response", []step{status(204, "", "")}, Config{}, ErrBadResponse, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakePeer(t, v07)
			f.add("m1", "2026-06-01T10:00:00Z", 0)
			f.hook = script(tt.steps...)
			c, sl := testClient(tt.cfg)
			page, err := c.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL}, "", 10)
			checkErr(t, err, tt.wantErr)
			if err == nil && len(page.Rows) != 1 {
				t.Errorf("%d rows, want 1", len(page.Rows))
			}
			if n := len(f.requests()); n != tt.wantReqs {
				t.Errorf("%d requests, want %d", n, tt.wantReqs)
			}
			if diff := cmp.Diff(tt.wantSleeps, sl.all()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
		})
	}
}

// checkErr fails unless err wraps want (want nil: err is nil).
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("error %v, want none", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error %v, want %v", err, want)
	}
}

func TestFetchRetryAfterHTTPDate(t *testing.T) {
	f, srv := newFakePeer(t, v07)
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	f.hook = script(status(503, now.Add(7*time.Second).Format(http.TimeFormat), ""))
	c, sl := testClient(Config{})
	c.now = func() time.Time { return now }
	if _, err := c.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL}, "", 10); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if diff := cmp.Diff([]time.Duration{7 * time.Second}, sl.all()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestFetchNeverWaitsPastDeadline(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		cfg        Config
	}{
		{"Retry-After beyond the deadline", "60", Config{}},
		{"backoff beyond the deadline", "", Config{BaseBackoff: time.Minute}},
		{"Retry-After of a century", "99999999999", Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakePeer(t, v07)
			f.hook = script(status(429, tt.retryAfter, ""), status(429, tt.retryAfter, ""))
			c, sl := testClient(tt.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := c.Fetch(ctx, Peer{ID: "p", URL: srv.URL}, "", 10)
			checkErr(t, err, ErrUnavailable)
			if !strings.Contains(err.Error(), "past the deadline") {
				t.Errorf("error %q does not say why it gave up", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			if got := sl.all(); len(got) != 0 {
				t.Errorf("slept %v past the deadline", got)
			}
		})
	}
}

func TestFetchCanceledContextStops(t *testing.T) {
	f, srv := newFakePeer(t, v07)
	ctx, cancel := context.WithCancel(context.Background())
	f.hook = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		cancel()
		return status(503, "", "")(w, r)
	}
	c, sl := testClient(Config{})
	_, err := c.Fetch(ctx, Peer{ID: "p", URL: srv.URL}, "", 10)
	checkErr(t, err, ErrUnavailable)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	if n := len(f.requests()); n != 1 || len(sl.all()) != 0 {
		t.Errorf("%d requests and sleeps %v after cancel, want 1 and none", n, sl.all())
	}
}

func TestFetchRejectedCarriesSanitizedSnippet(t *testing.T) {
	body := "bad\x00request\n\t" + strings.Repeat("é", 300)
	f, srv := newFakePeer(t, v07)
	f.hook = script(status(400, "", body))
	c, _ := testClient(Config{})
	_, err := c.Fetch(context.Background(), Peer{ID: "p", URL: srv.URL}, "", 10)
	checkErr(t, err, ErrRejected)
	msg := err.Error()
	if !strings.Contains(msg, `400 Bad Request: "bad request éé`) {
		t.Errorf("error %q lacks the status and the cleaned snippet", msg)
	}
	if strings.ContainsAny(msg, "\x00\n\t") || len(msg) > 300 {
		t.Errorf("error %q (%d bytes) is not one short line", msg, len(msg))
	}
}
