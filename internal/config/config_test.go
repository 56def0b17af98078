package config

import (
	"strings"
	"testing"
	"time"
)

func baseEnv() map[string]string {
	return map[string]string{
		"LOCAL_AGENT_ID": "me", "MEMORIES_TABLE": "mem", "STATE_TABLE": "state",
		"PEERS": `[{"id":"a","url":"https://a.example"}]`,
	}
}

// Defaults apply when a variable is unset or empty.
func TestLoadConfigDefaults(t *testing.T) {
	c, err := Load(mapEnv(baseEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if c.PageLimit != 500 || c.PeerConcurrency != 8 || c.WriteConcurrency != 32 ||
		c.RequestTimeout != 30*time.Second || c.MaxResponseBytes != 64<<20 ||
		c.ClockSkew != 5*time.Minute || c.DeadlineMargin != 10*time.Second ||
		c.LocalBudget != 5*time.Minute || c.SecretTTL != 5*time.Minute || !c.PeerRegistry ||
		c.LocalID != "me" || c.MemoriesTable != "mem" || c.StateTable != "state" || len(c.Peers) != 1 {
		t.Fatalf("defaults: %+v", c)
	}
}

// Every variable, one bad value each: the error names the variable.
func TestLoadConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, value, want string }{
		{"LOCAL_AGENT_ID", "", "LOCAL_AGENT_ID: required but not set"},
		{"MEMORIES_TABLE", "", "MEMORIES_TABLE: required but not set"},
		{"STATE_TABLE", "", "STATE_TABLE: required but not set"},
		{"PEERS", "", "PEERS: required but not set"},
		{"PEERS", "{", "PEERS: "},
		{"PAGE_LIMIT", "x", `PAGE_LIMIT: "x" is not an integer`},
		{"PAGE_LIMIT", "0", "PAGE_LIMIT: 0 is outside 1..10000"},
		{"PEER_CONCURRENCY", "257", "PEER_CONCURRENCY: 257 is outside 1..256"},
		{"WRITE_CONCURRENCY", "0", "WRITE_CONCURRENCY: 0 is outside 1..1024"},
		{"REQUEST_TIMEOUT", "soon", `REQUEST_TIMEOUT: "soon" is not a duration such as 30s or 5m`},
		{"REQUEST_TIMEOUT", "1ms", "REQUEST_TIMEOUT: 1ms is outside 1s..15m0s"},
		{"MAX_RESPONSE_BYTES", "10", "MAX_RESPONSE_BYTES: 10 is outside 1024..1073741824"},
		{"CLOCK_SKEW", "0s", "CLOCK_SKEW: 0s is outside 1s..24h0m0s"},
		{"CLOCK_SKEW", "25h", "CLOCK_SKEW: 25h0m0s is outside 1s..24h0m0s"},
		{"DEADLINE_MARGIN", "6m", "DEADLINE_MARGIN: 6m0s is outside 1s..5m0s"},
		{"LOCAL_BUDGET", "0s", "LOCAL_BUDGET: 0s is outside 1s..24h0m0s"},
		{"SECRET_TTL", "-1s", "SECRET_TTL: -1s is outside 0s..24h0m0s"},
		{"PEER_REGISTRY", "maybe", `PEER_REGISTRY: "maybe" is not true or false`},
	} {
		env := baseEnv()
		env[tc.name] = tc.value
		_, err := Load(mapEnv(env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: got %v, want %q", tc.name, tc.value, err, tc.want)
		}
	}
	env := baseEnv()
	env["PEERS"], env["PEER_REGISTRY"] = "[]", "false"
	if _, err := Load(mapEnv(env)); err == nil || !strings.Contains(err.Error(), "PEERS: no peers configured and PEER_REGISTRY is false") {
		t.Errorf("no peers: %v", err)
	}
}

// All configuration errors are reported at once, not only the first.
func TestLoadConfigReportsAll(t *testing.T) {
	env := baseEnv()
	delete(env, "LOCAL_AGENT_ID")
	env["PAGE_LIMIT"], env["CLOCK_SKEW"], env["PEER_REGISTRY"] = "x", "0s", "maybe"
	_, err := Load(mapEnv(env))
	for _, name := range []string{"LOCAL_AGENT_ID", "PAGE_LIMIT", "CLOCK_SKEW", "PEER_REGISTRY"} {
		if err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("%s missing from %v", name, err)
		}
	}
}

// A variable not declared in Vars is an error, not a panic.
func TestEnvReaderUndeclared(t *testing.T) {
	r := envReader{lookup: mapEnv(nil)}
	if v := r.value("NO_SUCH_VAR"); v != "" || r.err == nil || !strings.Contains(r.err.Error(), "NO_SUCH_VAR:") {
		t.Fatalf("got %q, %v", v, r.err)
	}
}
func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}
