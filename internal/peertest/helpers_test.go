package peertest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// resp is one answer as a test sees it.
type resp struct {
	status int
	ctype  string
	body   []byte
}

// get sends GET Path?rawQuery with headers to ts.
func get(t *testing.T, ts *httptest.Server, rawQuery string, headers map[string]string) resp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+Path+"?"+rawQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header.Get("Content-Type"), body}
}

// envelopeOf decodes a 200 page.
func envelopeOf(t *testing.T, r resp) map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var env map[string]any
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("page is not JSON: %v: %s", err, r.body)
	}
	return env
}

// ids lists the ids of a page's memories, in order.
func ids(t *testing.T, env map[string]any) []string {
	t.Helper()
	mems, ok := env["memories"].([]any)
	if !ok {
		t.Fatalf("memories is %T", env["memories"])
	}
	out := []string{}
	for _, m := range mems {
		out = append(out, m.(map[string]any)["id"].(string))
	}
	return out
}

// q builds a query the way a correct client does.
func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// stamped is a valid row with the given id and updated_at.
func stamped(id, at string) map[string]any { return Memory(id, at) }

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
