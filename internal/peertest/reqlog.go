package peertest

import (
	"net/http"
	"net/url"
	"slices"
)

// Request is what the fake recorded of one request, for assertions. It
// never holds the API key: only whether one was sent and whether it matched.
type Request struct {
	N        int    // 1 for the first request the server saw
	Method   string // as received
	Path     string // escaped, as received
	RawQuery string // as received, before decoding

	// Decoded query values (a literal '+' already turned into a space).
	Since    string
	HasSince bool
	Peer     string
	Limit    string
	HasLimit bool

	AgentID string // X-Agent-Id
	PeerID  string // X-Peer-Id
	Accept  string

	KeyPresent bool   // X-API-Key was sent
	KeyMatched bool   // and equals the key set (false when none is set)
	Nonce      string // X-Memory-Nonce, "" when absent
	SigValid   bool   // the signature verified (only checked when a public key is enrolled)
	Cred       string // X-Memory-Cred (a public credential, not a secret)
	CredChain  string // X-Memory-Cred-Chain

	Fault  bool // a non-zero Fault applied
	Status int  // status answered; 0 when the connection was dropped before one
	Rows   int  // rows in the page served (before fault edits)
}

// newRequest records what can be read off r before it is served.
func newRequest(n int, r *http.Request) Request {
	vals, _ := url.ParseQuery(r.URL.RawQuery) // partial values even on error
	rec := Request{
		N: n, Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Since: vals.Get("since"), Peer: vals.Get("peer"), Limit: vals.Get("limit"),
		AgentID: r.Header.Get("X-Agent-Id"), PeerID: r.Header.Get("X-Peer-Id"),
		Accept: r.Header.Get("Accept"),
	}
	_, rec.KeyPresent = r.Header["X-Api-Key"]
	_, rec.HasSince = vals["since"]
	_, rec.HasLimit = vals["limit"]
	return rec
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	out := append([]Request(nil), s.log...)
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Request) int { return a.N - b.N })
	return out
}

// ClearRequests empties the request log; the request counter keeps going.
func (s *Server) ClearRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

func (s *Server) record(rec *Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, *rec)
}
