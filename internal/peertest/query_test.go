package peertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestQueryErrors(t *testing.T) {
	tests := []struct {
		name     string
		rawQuery string
		status   int
		plain    bool // a plain-text body, else a JSON {"error"}
	}{
		{"encoded + is fine", "since=2026-06-01T10%3A00%3A05.5%2B00%3A00", 200, false},
		{"unencoded colons are fine", "since=2026-06-01T10:00:05Z", 200, false},
		{"literal + decodes to a space", "since=2026-06-01T10%3A00%3A05.5+00%3A00", 400, false},
		{"empty since", "since=", 400, false},
		{"not a time", "since=yesterday", 400, false},
		{"limit not a number", "limit=ten", 400, true},
		{"negative limit", "limit=-1", 400, true},
		{"duplicate since", "since=2026-06-01T10:00:05Z&since=2026-06-01T10:00:06Z", 400, true},
		{"bad escape", "since=%zz", 400, true},
		{"unknown keys ignored", "peer=me&extra=1", 200, false},
	}
	_, ts := NewHTTPTest(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, ts, tt.rawQuery, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d (body %s)", r.status, tt.status, r.body)
			}
			if tt.status == 200 {
				return
			}
			var e struct{ Error string }
			isJSON := json.Unmarshal(r.body, &e) == nil && e.Error != ""
			if isJSON == tt.plain || strings.HasPrefix(r.ctype, "text/plain") != tt.plain {
				t.Errorf("body %q (%s), want plain=%v", r.body, r.ctype, tt.plain)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	_, ts := NewHTTPTest(t)
	for _, path := range []string{"/api/v1/sync/since/", "/api/v1/sync/push", "/"} {
		res, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, res.StatusCode)
		}
	}
	res, err := ts.Client().Post(ts.URL+Path, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", res.StatusCode)
	}
}
