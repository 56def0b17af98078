package peertest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// fetch is a raw GET on a fresh connection (no transport retry on a reused
// one): the answer, or the error reading it.
func fetch(t *testing.T, url string, timeout time.Duration) (*http.Response, []byte, error) {
	t.Helper()
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get(url + Path)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, body, err
}

func TestStatusFaults(t *testing.T) {
	s, ts := NewHTTPTest(t, WithAPIKey("k"))
	s.Put(stamped("a", tZ))
	s.QueueFaults(RateLimited("7"), Status(503), Fault{Status: 500, Body: []byte("database is locked"), ContentType: "text/plain"})
	wants := []struct {
		status     int
		retryAfter string
		body       string
	}{
		{429, "7", `{"error":"Too Many Requests"}`},
		{503, "", `{"error":"Service Unavailable"}`},
		{500, "", "database is locked"},
		{401, "", `{"error":"missing or invalid API key"}`}, // the queue is empty: served normally
	}
	for i, w := range wants {
		res, body, err := fetch(t, ts.URL, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != w.status || res.Header.Get("Retry-After") != w.retryAfter || string(body) != w.body {
			t.Errorf("answer %d: %d Retry-After %q %s, want %d %q %s", i, res.StatusCode,
				res.Header.Get("Retry-After"), body, w.status, w.retryAfter, w.body)
		}
	}
}

func TestBodyFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, body []byte, readErr error)
	}{
		{"truncated", Truncated(), func(t *testing.T, body []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("read error %v after %d bytes, want unexpected EOF", err, len(body))
			}
		}},
		{"oversized", Oversized(1 << 20), func(t *testing.T, body []byte, err error) {
			var env map[string]any
			if err != nil || len(body) < 1<<20 || json.Unmarshal(body, &env) != nil || env["count"] != 2.0 {
				t.Errorf("err %v, %d bytes, want a valid page over 1 MiB", err, len(body))
			}
		}},
		{"oversized and truncated", Compose(Oversized(1<<20), Truncated()), func(t *testing.T, body []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) || len(body) < 1<<19 {
				t.Errorf("err %v after %d bytes, want unexpected EOF after half a MiB", err, len(body))
			}
		}},
		{"not JSON", NotJSON(), func(t *testing.T, body []byte, err error) {
			if err != nil || json.Valid(body) {
				t.Errorf("err %v, body %q, want HTML", err, body)
			}
		}},
		{"no memories", DropField("memories"), func(t *testing.T, body []byte, err error) {
			env := decode(t, body, err)
			if _, ok := env["memories"]; ok || env["count"] != 2.0 {
				t.Errorf("page %s, want count 2 and no memories", body)
			}
		}},
		{"wrong types", WrongTypes(), func(t *testing.T, body []byte, err error) {
			env := decode(t, body, err)
			if _, ok := env["memories"].(map[string]any); !ok || env["count"] != "many" {
				t.Errorf("page %s, want memories an object and count a string", body)
			}
		}},
		{"duplicates", DuplicateRows(), func(t *testing.T, body []byte, err error) {
			env := decode(t, body, err)
			if got := ids(t, env); len(got) != 4 || env["count"] != 4.0 || got[0] != got[2] {
				t.Errorf("ids %v count %v, want each row twice and count 4", got, env["count"])
			}
		}},
		{"reversed, future next_since", Compose(ReverseRows(), SetField("next_since", "9999-12-31T23:59:59Z")),
			func(t *testing.T, body []byte, err error) {
				env := decode(t, body, err)
				if got := ids(t, env); got[0] != "b" || env["next_since"] != "9999-12-31T23:59:59Z" {
					t.Errorf("ids %v next_since %v, want [b a] and year 9999", got, env["next_since"])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ts := NewHTTPTest(t)
			s.Put(stamped("a", tZ))
			s.Put(stamped("b", t06))
			s.QueueFaults(tt.fault)
			res, body, err := fetch(t, ts.URL, 5*time.Second)
			if res == nil {
				t.Fatalf("no answer: %v", err)
			}
			tt.check(t, body, err)
		})
	}
}

func decode(t *testing.T, body []byte, err error) map[string]any {
	t.Helper()
	var env map[string]any
	if err != nil || json.Unmarshal(body, &env) != nil {
		t.Fatalf("err %v, body %q, want a JSON object", err, body)
	}
	return env
}

func TestConnectionFaults(t *testing.T) {
	s, ts := NewHTTPTest(t)
	s.QueueFaults(Hangup(), Slow(2*time.Second), Slow(10*time.Millisecond))
	if _, _, err := fetch(t, ts.URL, 5*time.Second); err == nil {
		t.Error("hangup: got an answer")
	}
	if _, _, err := fetch(t, ts.URL, 100*time.Millisecond); err == nil {
		t.Error("slow past the client's timeout: got an answer")
	}
	if res, _, err := fetch(t, ts.URL, 5*time.Second); err != nil || res.StatusCode != 200 {
		t.Errorf("slow within the timeout: %v", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(s.Requests()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // the abandoned slow request is logged when it notices
	}
	var got []int
	for _, r := range s.Requests() {
		got = append(got, r.Status)
	}
	if len(got) != 3 || got[0] != 0 || got[1] != 0 || got[2] != 200 {
		t.Errorf("logged statuses %v, want [0 0 200]", got)
	}
}

func TestFaultFuncMayChangeData(t *testing.T) {
	s, ts := NewHTTPTest(t)
	s.Put(stamped("a", tZ))
	var calls atomic.Int32
	s.SetFaultFunc(func(r *http.Request, n int) Fault {
		calls.Add(1)
		if n == 2 {
			s.Put(stamped("late", t06)) // written between two pages
			return RateLimited("1")
		}
		return Fault{}
	})
	want := []struct {
		status int
		rows   int
	}{{200, 1}, {429, 0}, {200, 2}}
	for i, w := range want {
		r := get(t, ts, q(), nil)
		if r.status != w.status || (w.status == 200 && len(ids(t, envelopeOf(t, r))) != w.rows) {
			t.Errorf("request %d: %d %s, want %d with %d rows", i+1, r.status, r.body, w.status, w.rows)
		}
	}
	if calls.Load() != 3 {
		t.Errorf("hook called %d times, want 3", calls.Load())
	}
}

func TestConcurrentUse(t *testing.T) {
	s, ts := NewHTTPTest(t, WithAPIKey("k"))
	s.Load(Backlog(200, 3, 4, true))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			s.Put(Memory("bl-00001", "2026-06-02T00:00:00Z"))
			s.SetAPIKey("k")
			s.QueueFaults(Fault{})
			_ = s.Rows()
		}
	}()
	for range 20 {
		if r := get(t, ts, q("limit", "50"), map[string]string{"X-API-Key": "k"}); r.status != 200 {
			t.Errorf("status %d", r.status)
		}
	}
	<-done
}
