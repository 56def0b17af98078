package peertest

import (
	"net/http/httptest"
	"testing"
)

// NewHTTPTest starts a Server built from opts on a loopback httptest.Server,
// closed when t ends. Its URL (ts.URL) is the peer's base URL.
func NewHTTPTest(t testing.TB, opts ...Option) (*Server, *httptest.Server) {
	t.Helper()
	s := New(opts...)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}
