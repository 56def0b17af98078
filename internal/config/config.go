// Package config reads the function's configuration from its environment,
// once per cold start: every variable with its default (Vars), every error
// at once, each naming its variable.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/metrics"
	"github.com/aimemory/catchup/internal/peers"
)

// Config is everything the function reads from its environment, once per cold start.
type Config struct {
	LocalID          string
	Peers            []peers.Peer
	MemoriesTable    string
	StateTable       string
	PageLimit        int
	PeerConcurrency  int
	WriteConcurrency int
	RequestTimeout   time.Duration
	MaxResponseBytes int64
	ClockSkew        time.Duration
	DeadlineMargin   time.Duration
	LocalBudget      time.Duration
	SecretTTL        time.Duration
	PeerRegistry     bool
	PeerMetrics      metrics.Level
}

// Vars lists every variable Load reads, with its default ("" when
// required). template.yaml must set exactly these; a test holds them together.
var Vars = []struct{ Name, Default string }{
	{"LOCAL_AGENT_ID", ""},
	{"PEERS", ""},
	{"MEMORIES_TABLE", ""},
	{"STATE_TABLE", ""},
	{"PAGE_LIMIT", strconv.Itoa(catchup.DefaultPageLimit)},
	{"PEER_CONCURRENCY", strconv.Itoa(catchup.DefaultPeerConcurrency)},
	{"WRITE_CONCURRENCY", strconv.Itoa(catchup.DefaultWriteConcurrency)},
	{"REQUEST_TIMEOUT", ShortDuration(peers.DefaultTimeout)},
	{"MAX_RESPONSE_BYTES", strconv.Itoa(peers.DefaultMaxBody)},
	{"CLOCK_SKEW", ShortDuration(catchup.DefaultSkew)},
	{"DEADLINE_MARGIN", ShortDuration(catchup.DefaultMargin)},
	{"LOCAL_BUDGET", ShortDuration(catchup.DefaultBudget)},
	{"SECRET_TTL", "5m"},
	{"PEER_REGISTRY", "true"},
	{"PEER_METRICS", "standard"},
}

// ShortDuration is d as template.yaml writes it: 5m, not 5m0s.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// Load reads and validates the configuration. Every error names its variable.
func Load(lookup func(string) (string, bool)) (Config, error) {
	r := envReader{lookup: lookup}
	c := Config{
		LocalID:          r.required("LOCAL_AGENT_ID"),
		MemoriesTable:    r.required("MEMORIES_TABLE"),
		StateTable:       r.required("STATE_TABLE"),
		PageLimit:        r.intIn("PAGE_LIMIT", 1, 10000),
		PeerConcurrency:  r.intIn("PEER_CONCURRENCY", 1, 256),
		WriteConcurrency: r.intIn("WRITE_CONCURRENCY", 1, 1024),
		RequestTimeout:   r.duration("REQUEST_TIMEOUT", time.Second, 15*time.Minute),
		MaxResponseBytes: int64(r.intIn("MAX_RESPONSE_BYTES", 1<<10, 1<<30)),
		// CLOCK_SKEW=0s is rejected: catchup.Options treats a zero Skew as
		// "use the default" and would silently run with 5m (issue 10).
		ClockSkew:      r.duration("CLOCK_SKEW", time.Second, 24*time.Hour),
		DeadlineMargin: r.duration("DEADLINE_MARGIN", time.Second, 5*time.Minute),
		LocalBudget:    r.duration("LOCAL_BUDGET", time.Second, 24*time.Hour),
		SecretTTL:      r.duration("SECRET_TTL", 0, 24*time.Hour),
		PeerRegistry:   r.boolean("PEER_REGISTRY"),
		PeerMetrics:    r.metricsLevel("PEER_METRICS"),
	}
	// "[]" is allowed: the peers may all live in the registry.
	if raw := r.required("PEERS"); raw != "" && strings.TrimSpace(raw) != "[]" {
		ps, err := peers.ParsePeers(raw)
		if err != nil {
			r.fail("PEERS", err)
		}
		c.Peers = ps
	}
	if r.err != nil {
		return Config{}, r.err
	}
	if len(c.Peers) == 0 && !c.PeerRegistry {
		return Config{}, fmt.Errorf("PEERS: no peers configured and PEER_REGISTRY is false")
	}
	return c, nil
}

// envReader collects every error (errors.Join, each naming its variable) so
// Load reads as a list and an operator sees all mistakes at once.
type envReader struct {
	lookup func(string) (string, bool)
	err    error
}

func (r *envReader) fail(name string, err error) {
	r.err = errors.Join(r.err, fmt.Errorf("%s: %w", name, err))
}

func (r *envReader) value(name string) string {
	if v, ok := r.lookup(name); ok && v != "" {
		return v
	}
	for _, cv := range Vars {
		if cv.Name == name {
			return cv.Default
		}
	}
	r.fail(name, errors.New("not declared in Vars (a bug in config.go)"))
	return ""
}

func (r *envReader) required(name string) string {
	v := r.value(name)
	if v == "" {
		r.fail(name, fmt.Errorf("required but not set"))
	}
	return v
}

func (r *envReader) intIn(name string, lo, hi int) int {
	v := r.value(name)
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		r.fail(name, fmt.Errorf("%q is not an integer", v))
	case n < lo || n > hi:
		r.fail(name, fmt.Errorf("%d is outside %d..%d", n, lo, hi))
	}
	return n
}

func (r *envReader) duration(name string, lo, hi time.Duration) time.Duration {
	v := r.value(name)
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		r.fail(name, fmt.Errorf("%q is not a duration such as 30s or 5m", v))
	case d < lo || d > hi:
		r.fail(name, fmt.Errorf("%s is outside %s..%s", d, lo, hi))
	}
	return d
}

func (r *envReader) boolean(name string) bool {
	v := r.value(name)
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Errorf("%q is not true or false", v))
	}
	return b
}

func (r *envReader) metricsLevel(name string) metrics.Level {
	l, err := metrics.ParseLevel(r.value(name))
	if err != nil {
		r.fail(name, err)
	}
	return l
}

// Tables reads only the two table names, for -init.
func Tables(lookup func(string) (string, bool)) (memories, state string, err error) {
	r := envReader{lookup: lookup}
	memories, state = r.required("MEMORIES_TABLE"), r.required("STATE_TABLE")
	return memories, state, r.err
}
