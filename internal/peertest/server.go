// Package peertest serves the ai-memory sync protocol for tests, demos and
// benchmarks: a fake peer that answers GET /api/v1/sync/since the way the
// real servers do (docs/protocol.md §1–§3), warts included, so that a client
// tested against it meets the same traps in the field:
//
//   - the query is form-decoded, so an unencoded '+' in since breaks it (400);
//   - since is compared as TEXT, byte-wise, not as an instant;
//   - rows with equal updated_at come back in a shuffled order, and the LIMIT
//     cuts tie groups anywhere;
//   - scope filtering runs after the LIMIT (v0.7 and later), so a short or
//     empty page does not mean the peer is drained;
//   - the envelope follows the configured Generation.
//
// It is written from the protocol text, independently of the client in
// internal/peers, so that the two can disagree. Faults (statuses, delays,
// truncated, oversized or malformed bodies) are injected per request, and
// every request is logged for assertions.
package peertest

import (
	"crypto/ed25519"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Path is the only path the fake serves.
const Path = "/api/v1/sync/since"

// FaultFunc picks the fault for the n-th request (n starts at 1); it may
// return the zero Fault. It runs without the server's lock held, so it may
// call Put and other methods, e.g. to change the data between two pages.
type FaultFunc func(r *http.Request, n int) Fault

// Server is a fake ai-memory peer. It is an http.Handler, safe for
// concurrent use; its settings may change while it serves.
type Server struct {
	mu          sync.Mutex
	rows        []Row
	index       map[string]int // Row.ID -> position in rows
	sorted      []Row          // rows by UpdatedAt; nil after a change
	gen         Generation
	apiKey      string
	verifyKey   ed25519.PublicKey
	nonces      map[string]bool
	peerID      string
	scope       ScopeFunc
	scopeStatus string
	seed        uint64
	n           int
	faults      []Fault
	faultFunc   FaultFunc
	log         []Request
	capOpt      int // WithPageCap; 0: the generation's own cap
	v1          v1State
}

// Option configures a Server at construction.
type Option func(*Server)

// WithGeneration sets the server generation (default Newest).
func WithGeneration(g Generation) Option { return func(s *Server) { s.gen = g } }

// WithAPIKey requires X-API-Key to equal key ("" = no key required).
func WithAPIKey(key string) Option { return func(s *Server) { s.apiKey = key } }

// WithVerifyKey requires requests signed by the private half of pub (nil = unsigned).
func WithVerifyKey(pub ed25519.PublicKey) Option { return func(s *Server) { s.verifyKey = pub } }

// WithPeerID requires X-Peer-Id, X-Agent-Id and peer= to equal id, else 403.
func WithPeerID(id string) Option { return func(s *Server) { s.peerID = id } }

// WithScope sets the scope filter (v0.7 and later; default: every row visible).
func WithScope(f ScopeFunc) Option { return func(s *Server) { s.scope = f } }

// WithScopeStatus overrides the reported scope_status (default: "scoped"
// with a scope filter, "legacy_bypass" without).
func WithScopeStatus(status string) Option { return func(s *Server) { s.scopeStatus = status } }

// WithSeed seeds the shuffling of tie groups (default 1). Request n of a
// server with seed s always shuffles the same way.
func WithSeed(seed int64) Option { return func(s *Server) { s.seed = uint64(seed) } }

// WithFaultFunc sets the per-request fault hook, as SetFaultFunc does.
func WithFaultFunc(f FaultFunc) Option { return func(s *Server) { s.faultFunc = f } }

// WithPageCap caps every page at n rows and echoes the capped limit, as a v1
// server's max_page_size (AI_MEMORY_MAX_PAGE_SIZE, 1000 by default) does
// (docs/protocol.md §1). n <= 0 leaves only MaxLimit.
func WithPageCap(n int) Option { return func(s *Server) { s.capOpt = n } }

// WithRows stores rows, as Load does.
func WithRows(rows []map[string]any) Option { return func(s *Server) { s.Load(rows) } }

// New returns a Newest server with no rows, no key and no faults, changed by opts.
func New(opts ...Option) *Server {
	s := &Server{gen: Newest, index: map[string]int{}, nonces: map[string]bool{}, seed: 1, v1: newV1State()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SetAPIKey changes the required key at runtime, e.g. to rotate it ("" = none).
func (s *Server) SetAPIKey(key string) { s.set(func() { s.apiKey = key }) }

// SetScope changes the scope filter (nil = every row visible): a peer whose
// scope changes suddenly serves fewer rows (the reconcile tests).
func (s *Server) SetScope(f ScopeFunc) { s.set(func() { s.scope = f }) }

// SetFaultFunc sets the per-request fault hook, consulted when the queue of
// QueueFaults is empty (nil = none).
func (s *Server) SetFaultFunc(f FaultFunc) { s.set(func() { s.faultFunc = f }) }

// QueueFaults appends faults for the next requests, one each, in order; a
// zero Fault in the queue lets one request through untouched.
func (s *Server) QueueFaults(faults ...Fault) {
	s.set(func() { s.faults = append(s.faults, faults...) })
}

func (s *Server) set(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn()
}

// nextFault numbers the request and picks its fault.
func (s *Server) nextFault(r *http.Request) (int, Fault) {
	s.mu.Lock()
	s.n++
	n, hook := s.n, s.faultFunc
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		s.mu.Unlock()
		return n, f
	}
	s.mu.Unlock()
	if hook == nil {
		return n, Fault{}
	}
	return n, hook(r, n)
}

// ServeHTTP answers one request; see the package comment and Fault.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, f := s.nextFault(r)
	if f.IsZero() {
		f = s.admit(r, n)
	}
	rec := newRequest(n, r)
	rec.Fault = !f.IsZero()
	defer s.record(&rec)
	if f.Delay > 0 && !sleep(r, f.Delay) {
		return
	}
	if f.Hangup {
		hangup(w, true)
		return
	}
	var a answer
	if f.Status != 0 {
		a = jsonAnswer(f.Status, map[string]string{"error": http.StatusText(f.Status)})
	} else {
		a = s.serve(r, &rec, n, f.Edit)
	}
	if f.Body != nil {
		a.body, a.contentType = f.Body, f.ContentType
		if a.contentType == "" {
			a.contentType = "application/json"
		}
	}
	rec.Status = a.status
	if a.status == http.StatusUnauthorized {
		s.failedKeyCheck(r)
	} else if a.status == http.StatusOK {
		s.passedKeyCheck(r)
	}
	write(w, a, f)
}

// sleep waits d or until the client leaves; it reports whether d passed.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// serve is the real server's handler: route, auth, query, select, filter.
func (s *Server) serve(r *http.Request, rec *Request, n int, edit func(map[string]any)) answer {
	if r.URL.Path != Path {
		return jsonAnswer(http.StatusNotFound, map[string]string{"error": "not found"})
	}
	if r.Method != http.MethodGet {
		return answer{http.StatusMethodNotAllowed, "text/plain; charset=utf-8", nil}
	}
	s.mu.Lock()
	p, rej := s.page(r, rec, n)
	s.mu.Unlock()
	if rej != nil {
		return rejectAnswer(rej)
	}
	p.filter()
	rec.Rows = len(p.shown)
	env := p.envelope()
	if edit != nil {
		edit(env)
	}
	return pageAnswer(env)
}

// page checks the request and examines the rows. The caller holds s.mu.
func (s *Server) page(r *http.Request, rec *Request, n int) (*page, *reject) {
	if rej := s.checkKey(r, rec); rej != nil {
		return nil, rej
	}
	if rej := s.checkSig(r, rec); rej != nil {
		return nil, rej
	}
	if rej := s.checkEnrolled(r, rec); rej != nil {
		return nil, rej
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	q, rej := parseQuery(vals, err, s.pageCap())
	if rej == nil {
		rej = s.checkPeer(r, q)
	}
	if rej != nil {
		return nil, rej
	}
	q.limit = min(q.limit, s.pageCap())
	rng := rand.New(rand.NewPCG(s.seed, uint64(n)))
	p := &page{gen: s.gen, scope: s.scope, status: s.scopeStatus, since: q.since, limit: q.limit}
	p.examined = s.examine(q.since, q.limit, rng)
	if p.status == "" {
		p.status = StatusLegacy
		if s.scope != nil {
			p.status = StatusScoped
		}
	}
	return p, nil
}
