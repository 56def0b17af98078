package peertest

import (
	"crypto/ed25519"
	"encoding/base64"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aimemory/catchup/internal/watermark"
)

// The 401 tags of a v1 server's signed-request check (docs/protocol.md §2).
const (
	TagNotEnrolled      = "peer_not_enrolled"              // unsigned, and no key enrolled for X-Peer-Id
	TagV1SigMissing     = "x_memory_sig_missing"           // X-Memory-Sig absent (a key is enrolled)
	TagNoEnrolledKey    = "x_memory_sig_no_enrolled_key"   // signed, but no key enrolled for X-Peer-Id
	TagBadSignature     = "x_memory_sig_bad_signature"     // does not verify against the enrolled key
	TagV1SigMalformed   = "x_memory_sig_malformed"         // not ed25519= and padded std base64 of 64 bytes
	TagUnknownAlgorithm = "x_memory_sig_unknown_algorithm" // another alg= prefix
	TagNonceMissing     = "x_memory_nonce_missing"         // X-Memory-Nonce absent or not a UUID
	TagNonceReplay      = "x_memory_nonce_replay"          // nonce accepted before for this peer
	// MsgAuthBackoff is the 429 error of a locked-out source address.
	MsgAuthBackoff = "auth_backoff"
	// DefaultLockoutAfter is the failed key checks a v1 server allows one
	// source address before it locks it out.
	DefaultLockoutAfter = 5
)

// v1State is what a V1 server keeps beyond the older ones.
type v1State struct {
	enrolled     map[string]ed25519.PublicKey // X-Peer-Id -> key (<key_dir>/<id>.pub)
	nonces       map[string]bool              // peer id + "\x00" + nonce
	maxLimit     int                          // 0: V1MaxLimit
	shed         float64                      // fraction of requests answered 503
	lockoutAfter int                          // failed key checks before a lockout; < 0 never
	addrs        map[string]*lockout          // by source IP
	now          func() time.Time
}

type lockout struct {
	failed int
	next   time.Duration // the next lockout's length: 1 s doubling to 300 s
	until  time.Time
}

func newV1State() v1State {
	return v1State{
		enrolled: map[string]ed25519.PublicKey{}, nonces: map[string]bool{},
		lockoutAfter: DefaultLockoutAfter, addrs: map[string]*lockout{}, now: time.Now,
	}
}

// EnrolKey enrolls pub for the caller whose X-Peer-Id is peerID, as an
// operator does by writing <key_dir>/<peerID>.pub on a v1 server; nil
// removes it.
func (s *Server) EnrolKey(peerID string, pub ed25519.PublicKey) {
	s.set(func() {
		if pub == nil {
			delete(s.v1.enrolled, peerID)
			return
		}
		s.v1.enrolled[peerID] = pub
	})
}

// WithEnrolled enrolls pub for peerID (EnrolKey).
func WithEnrolled(peerID string, pub ed25519.PublicKey) Option {
	return func(s *Server) { s.v1.enrolled[peerID] = pub }
}

// WithMaxPageSize sets a V1 server's page cap (AI_MEMORY_MAX_PAGE_SIZE;
// default V1MaxLimit).
func WithMaxPageSize(n int) Option { return func(s *Server) { s.v1.maxLimit = n } }

// WithShed makes a V1 server shed that fraction of requests (0..1) with 503
// {"code":"OVERLOADED"} and Retry-After: 1, before any auth check. Which
// requests are shed follows the seed.
func WithShed(fraction float64) Option { return func(s *Server) { s.v1.shed = fraction } }

// WithLockoutAfter sets how many failed key checks (401s) from one source
// address a V1 server allows before answering 429 auth_backoff to every
// request from it, for 1 s doubling to 300 s (default 5; < 0 never).
func WithLockoutAfter(n int) Option { return func(s *Server) { s.v1.lockoutAfter = n } }

// WithClock sets the clock of a V1 server's lockouts (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.v1.now = now } }

// pageCap is the largest limit served. The caller holds s.mu.
func (s *Server) pageCap() int {
	switch {
	case s.capOpt > 0:
		return s.capOpt
	case s.gen < V1:
		return watermark.MaxLimit
	case s.v1.maxLimit > 0:
		return s.v1.maxLimit
	}
	return V1MaxLimit
}

// admit is a V1 server's admission control and auth lockout, before
// anything else: a Fault to answer with, or the zero Fault.
func (s *Server) admit(r *http.Request, n int) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen < V1 {
		return Fault{}
	}
	if l := s.v1.addrs[sourceIP(r)]; l != nil {
		if left := l.until.Sub(s.v1.now()); left > 0 {
			secs := int((left + time.Second - 1) / time.Second)
			return Fault{Status: http.StatusTooManyRequests, RetryAfter: strconv.Itoa(secs),
				Body: []byte(`{"error":"` + MsgAuthBackoff + `"}`)}
		}
	}
	if s.v1.shed > 0 && rand.New(rand.NewPCG(s.seed^0x73686564, uint64(n))).Float64() < s.v1.shed {
		return Fault{Status: http.StatusServiceUnavailable, RetryAfter: "1",
			Body: []byte(`{"code":"OVERLOADED","error":"server overloaded, retry"}`)}
	}
	return Fault{}
}

// failedKeyCheck counts a 401 against the request's source address, and
// locks it out at the limit.
func (s *Server) failedKeyCheck(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen < V1 || s.v1.lockoutAfter < 0 {
		return
	}
	ip := sourceIP(r)
	l := s.v1.addrs[ip]
	if l == nil {
		l = &lockout{next: time.Second}
		s.v1.addrs[ip] = l
	}
	l.failed++
	if l.failed >= s.v1.lockoutAfter {
		l.until = s.v1.now().Add(l.next)
		l.next = min(2*l.next, 300*time.Second)
		l.failed = 0
	}
}

// passedKeyCheck forgets an address's failures after an authenticated page.
func (s *Server) passedKeyCheck(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.v1.addrs, sourceIP(r))
}

// FailedKeyChecks counts the 401s answered so far.
func (s *Server) FailedKeyChecks() int {
	n := 0
	for _, rec := range s.Requests() {
		if rec.Status == http.StatusUnauthorized {
			n++
		}
	}
	return n
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// checkEnrolled is a V1 server's signed-request check: the request must be
// signed (docs/protocol.md §1) by the key enrolled under its X-Peer-Id, with
// a nonce not seen before for that peer. The caller holds s.mu.
func (s *Server) checkEnrolled(r *http.Request, rec *Request) *reject {
	rec.Cred, rec.CredChain = r.Header.Get("X-Memory-Cred"), r.Header.Get("X-Memory-Cred-Chain")
	if s.gen < V1 {
		return nil
	}
	unauth := func(tag string) *reject { return &reject{status: http.StatusUnauthorized, msg: tag} }
	id := r.Header.Get("X-Peer-Id")
	key := s.v1.enrolled[id]
	nonce, sig := r.Header.Get("X-Memory-Nonce"), r.Header.Get("X-Memory-Sig")
	switch {
	case sig == "" && nonce == "" && key == nil:
		return unauth(TagNotEnrolled)
	case sig == "":
		return unauth(TagV1SigMissing)
	case nonce == "" || !isUUIDv4(nonce):
		return unauth(TagNonceMissing)
	}
	alg, b64, ok := strings.Cut(sig, "=")
	if !ok {
		return unauth(TagV1SigMalformed)
	}
	if alg != "ed25519" {
		return unauth(TagUnknownAlgorithm)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return unauth(TagV1SigMalformed)
	}
	if key == nil {
		return unauth(TagNoEnrolledKey)
	}
	msg := r.Method + "\n" + r.URL.EscapedPath() + "\n" + r.URL.RawQuery + "\x00" + nonce
	if !ed25519.Verify(key, []byte(msg), raw) {
		return unauth(TagBadSignature)
	}
	if s.v1.nonces[id+"\x00"+nonce] {
		return unauth(TagNonceReplay)
	}
	s.v1.nonces[id+"\x00"+nonce] = true
	rec.SigValid = true
	return nil
}
