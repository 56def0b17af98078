// Package faultproxy injects the faults of a real DynamoDB endpoint into
// tests: a reverse proxy that answers a seeded fraction of requests with
// throttling errors in DynamoDB's own JSON shapes, 500s and 503s, or resets
// the connection, either before the request reaches the service or after the
// service applied it (the answer is lost, the write is not). It also runs a
// toxiproxy server, built from the version pinned in go.mod, for faults on
// the peer side.
//
// It is for tests and listens on loopback only.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Fault is what the proxy does to one request.
type Fault int

const (
	// None forwards the request and its answer untouched.
	None Fault = iota
	// ThroughputExceeded answers 400 ProvisionedThroughputExceededException
	// without forwarding.
	ThroughputExceeded
	// Throttling answers 400 ThrottlingException without forwarding.
	Throttling
	// InternalError answers 500 InternalServerError without forwarding.
	InternalError
	// Unavailable answers 503 ServiceUnavailable without forwarding.
	Unavailable
	// ResetBefore resets the connection without forwarding.
	ResetBefore
	// ResetAfter forwards the request, so the service applies it, then resets
	// the connection instead of answering: the caller cannot tell whether
	// its write happened.
	ResetAfter
	// CutAfter forwards the request, then sends the status line, the
	// headers and half of the body, and resets the connection.
	CutAfter
)

// AllFaults lists every fault but None.
var AllFaults = []Fault{ThroughputExceeded, Throttling, InternalError, Unavailable, ResetBefore, ResetAfter, CutAfter}

var faultNames = [...]string{"none", "throughput_exceeded", "throttling", "internal_error", "unavailable", "reset_before", "reset_after", "cut_after"}

// String names the fault for logs and reports.
func (f Fault) String() string {
	if f >= 0 && int(f) < len(faultNames) {
		return faultNames[f]
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Options configure a Proxy.
type Options struct {
	Target string  // base URL of the real service, e.g. moto's
	Seed   uint64  // seeds which requests are faulted and how
	Rate   float64 // fraction of matching requests faulted, 0..1
	Faults []Fault // drawn uniformly for a faulted request; nil = AllFaults
	// Match selects the requests that may be faulted by their operation,
	// the part of X-Amz-Target after the dot ("PutItem"); nil = every one.
	Match func(op string) bool
}

// Proxy is an http.Handler forwarding to Options.Target. It is safe for
// concurrent use; its rate may change while it serves.
type Proxy struct {
	target   string
	faults   []Fault
	match    func(string) bool
	upstream *http.Client

	mu       sync.Mutex
	rnd      *rand.Rand
	rate     float64
	requests int
	counts   map[Fault]int
}

// New returns a proxy to opt.Target.
func New(opt Options) *Proxy {
	faults := opt.Faults
	if faults == nil {
		faults = AllFaults
	}
	return &Proxy{
		target:   strings.TrimSuffix(opt.Target, "/"),
		faults:   faults,
		match:    opt.Match,
		upstream: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}},
		rnd:      rand.New(rand.NewPCG(opt.Seed, 0x666175)),
		rate:     opt.Rate,
		counts:   map[Fault]int{},
	}
}

// Start serves a new proxy on a loopback port until t ends and returns it
// with its base URL.
func Start(t testing.TB, opt Options) (*Proxy, string) {
	t.Helper()
	p := New(opt)
	ts := httptest.NewServer(p)
	t.Cleanup(ts.Close)
	return p, ts.URL
}

// SetRate changes the fraction of matching requests faulted (0 stops faults).
func (p *Proxy) SetRate(rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rate = rate
}

// Requests is the number of requests served so far.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Counts returns how many requests got each fault (None excluded).
func (p *Proxy) Counts() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.counts))
	for f, n := range p.counts {
		out[f] = n
	}
	return out
}

// Injected is the number of requests that got a fault.
func (p *Proxy) Injected() int {
	n := 0
	for _, c := range p.Counts() {
		n += c
	}
	return n
}

// pick draws the fault of one request of operation op.
func (p *Proxy) pick(op string) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.match != nil && !p.match(op) {
		return None
	}
	if p.rate <= 0 || p.rnd.Float64() >= p.rate {
		return None
	}
	f := p.faults[p.rnd.IntN(len(p.faults))]
	p.counts[f]++
	return f
}

// ServeHTTP forwards r, or answers it with a fault.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndexByte(target, '.')+1:]
	f := p.pick(op)
	if a, ok := errorAnswers[f]; ok {
		a.write(w)
		return
	}
	if f == ResetBefore {
		reset(w)
		return
	}
	resp, err := p.forward(r, body)
	if err != nil {
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	switch f {
	case ResetAfter:
		reset(w)
	case CutAfter:
		cut(w, resp)
	default:
		relay(w, resp)
	}
}

// upstreamResponse is the service's whole answer.
type upstreamResponse struct {
	status int
	header http.Header
	body   []byte
}

func (p *Proxy) forward(r *http.Request, body []byte) (*upstreamResponse, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host // the SDK signed this host
	resp, err := p.upstream.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &upstreamResponse{status: resp.StatusCode, header: resp.Header, body: b}, nil
}
