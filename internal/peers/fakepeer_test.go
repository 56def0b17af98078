package peers

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aimemory/catchup/internal/stamp"
)

// generation is an ai-memory server version whose envelope differs.
type generation int

const (
	v06 generation = iota
	v07
	newest
)

func (g generation) String() string { return [...]string{"v0.6", "v0.7", "newest"}[g] }

// fakeRow is one stored memory of a fakePeer.
type fakeRow struct {
	updatedAt string
	raw       string // the row exactly as served
	scope     int    // 0 visible, 1 excluded_for_scope, 2 excluded_for_scope_private
}

// fakePeer behaves like an ai-memory node for GET /api/v1/sync/since:
// text comparison `updated_at > since`, ORDER BY updated_at as text with no
// tie-breaker (insertion order), LIMIT, then scope filtering, and the
// envelope of its generation. Faults are injected with hook.
type fakePeer struct {
	t   *testing.T
	gen generation

	mu    sync.Mutex
	rows  []fakeRow
	key   string            // required X-API-Key; "" = none
	pub   ed25519.PublicKey // required signature; nil = none
	reqs  []*http.Request
	hook  func(n int, w http.ResponseWriter, r *http.Request) bool // true: handled
	since []string                                                 // decoded since of each request ("" = absent)
}

func newFakePeer(t *testing.T, gen generation) (*fakePeer, *httptest.Server) {
	t.Helper()
	f := &fakePeer{t: t, gen: gen}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// add stores a row built from fields, with id and updated_at set.
func (f *fakePeer) add(id, updatedAt string, scope int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = append(f.rows, fakeRow{updatedAt: updatedAt, raw: validRowJSON(id, updatedAt), scope: scope})
}

func (f *fakePeer) addRaw(updatedAt, raw string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = append(f.rows, fakeRow{updatedAt: updatedAt, raw: raw})
}

func (f *fakePeer) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.reqs...)
}

func (f *fakePeer) sinces() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.since...)
}

func (f *fakePeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	n := len(f.reqs)
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(n, w, r) {
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != sincePath {
		http.NotFound(w, r)
		return
	}
	if !f.authorized(w, r) {
		return
	}
	f.serveSince(w, r)
}

func (f *fakePeer) authorized(w http.ResponseWriter, r *http.Request) bool {
	if f.key != "" && r.Header.Get("X-API-Key") != f.key {
		writeJSON(w, http.StatusUnauthorized, `{"error":"missing or invalid API key"}`)
		return false
	}
	if f.pub == nil {
		return true
	}
	nonce := r.Header.Get("X-Memory-Nonce")
	// The path as sent, before any prefix was stripped on the way here.
	path, _, _ := strings.Cut(r.RequestURI, "?")
	sig, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.Header.Get("X-Memory-Sig"), sigPrefix))
	if err != nil || !strings.HasPrefix(r.Header.Get("X-Memory-Sig"), sigPrefix) ||
		!ed25519.Verify(f.pub, signedBytes(path, r.URL.RawQuery, nonce), sig) {
		writeJSON(w, http.StatusUnauthorized, `{"error":"x_memory_sig_invalid"}`)
		return false
	}
	return true
}

func (f *fakePeer) serveSince(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery) // form decoding: '+' is a space
	if err != nil {
		writeJSON(w, http.StatusBadRequest, `{"error":"bad query"}`)
		return
	}
	limit := 500
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 0 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "Invalid query string: limit")
			return
		}
	}
	limit = min(limit, 10000)
	since, hasSince := q["since"]
	f.mu.Lock()
	if hasSince {
		f.since = append(f.since, since[0])
	} else {
		f.since = append(f.since, "")
	}
	f.mu.Unlock()
	if hasSince && !stamp.Valid(since[0]) {
		writeJSON(w, http.StatusBadRequest, `{"error":"invalid since"}`)
		return
	}
	writeJSON(w, http.StatusOK, f.page(q.Get("since"), limit))
}

// page selects and filters rows as the server's SQL and scope code do.
func (f *fakePeer) page(since string, limit int) string {
	f.mu.Lock()
	var sel []fakeRow
	for _, r := range f.rows {
		if r.updatedAt > since {
			sel = append(sel, r)
		}
	}
	f.mu.Unlock()
	sort.SliceStable(sel, func(i, j int) bool { return sel[i].updatedAt < sel[j].updatedAt })
	if len(sel) > limit {
		sel = sel[:limit]
	}
	var raws []string
	excl := [3]int{}
	for _, r := range sel {
		excl[r.scope]++
		if r.scope == 0 {
			raws = append(raws, r.raw)
		}
	}
	return f.envelope(raws, limit, since, excl[1], excl[2], sel)
}

func (f *fakePeer) envelope(raws []string, limit int, since string, ex, exPriv int, examined []fakeRow) string {
	rows := "[" + strings.Join(raws, ",") + "]"
	earliest, latest := "null", "null"
	if len(raws) > 0 {
		earliest, latest = jsonString(updatedAtOf(raws[0])), jsonString(updatedAtOf(raws[len(raws)-1]))
	}
	sinceJSON := "null"
	if since != "" {
		sinceJSON = jsonString(since)
	}
	// Key order differs by generation on purpose: clients must not care.
	switch f.gen {
	case v06:
		return fmt.Sprintf(`{"count":%d,"limit":%d,"updated_since":%s,"memories":%s,"earliest_updated_at":%s,"latest_updated_at":%s}`,
			len(raws), limit, sinceJSON, rows, earliest, latest)
	case v07:
		return fmt.Sprintf(`{"memories":%s,"count":%d,"limit":%d,"updated_since":%s,"earliest_updated_at":%s,"latest_updated_at":%s,"excluded_for_scope":%d,"excluded_for_scope_private":%d,"scope_status":"scoped"}`,
			rows, len(raws), limit, sinceJSON, earliest, latest, ex, exPriv)
	}
	next := "null"
	if len(examined) > 0 {
		next = jsonString(examined[len(examined)-1].updatedAt)
	}
	return fmt.Sprintf(`{"scope_status":"scoped","next_since":%s,"excluded_for_scope":%d,"excluded_for_scope_private":%d,"memories":%s,"count":%d,"limit":%d,"updated_since":%s,"earliest_updated_at":%s,"latest_updated_at":%s,"server_build":"0.7.3"}`,
		next, ex, exPriv, rows, len(raws), limit, sinceJSON, earliest, latest)
}

func updatedAtOf(raw string) string {
	var r struct {
		UpdatedAt string `json:"updated_at"`
	}
	_ = json.Unmarshal([]byte(raw), &r)
	return r.UpdatedAt
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

// validRowJSON is a row that passes every rule of docs/protocol.md §5, with an
// unknown field of a newer server.
func validRowJSON(id, updatedAt string) string {
	return fmt.Sprintf(`{"id":%s,"tier":"long","namespace":"team/alpha","title":"A title","content":"Some content\nwith a newline","tags":["a","b"],"priority":5,"confidence":0.9,"source":"api","access_count":3,"created_at":"2026-01-01T00:00:00Z","updated_at":%s,"metadata":{"k":[1,2,{"x":null}]},"lifecycle_state":"active"}`,
		jsonString(id), jsonString(updatedAt))
}
