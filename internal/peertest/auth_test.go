package peertest

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func errorOf(t *testing.T, r resp) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", r.body, err)
	}
	return e.Error
}

func TestAPIKey(t *testing.T) {
	const key = "s3cret-key"
	s, ts := NewHTTPTest(t, WithAPIKey(key))
	tests := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"missing", nil, 401},
		{"wrong", map[string]string{"X-API-Key": "nope"}, 401},
		{"empty", map[string]string{"X-API-Key": ""}, 401},
		{"right", map[string]string{"X-API-Key": key}, 200},
	}
	for _, tt := range tests {
		r := get(t, ts, q(), tt.headers)
		if r.status != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, r.status, tt.status)
		}
		if tt.status == 401 && errorOf(t, r) != MsgBadKey {
			t.Errorf("%s: error %q, want %q", tt.name, r.body, MsgBadKey)
		}
	}
	s.SetAPIKey("rotated")
	if r := get(t, ts, q(), map[string]string{"X-API-Key": key}); r.status != 401 {
		t.Errorf("old key after rotation: status %d, want 401", r.status)
	}
	if r := get(t, ts, q(), map[string]string{"X-API-Key": "rotated"}); r.status != 200 {
		t.Errorf("new key after rotation: status %d, want 200", r.status)
	}
	type seen struct{ Present, Matched bool }
	var got []seen
	for _, rec := range s.Requests() {
		got = append(got, seen{rec.KeyPresent, rec.KeyMatched})
		if dump := fmt.Sprintf("%+v", rec); strings.Contains(dump, key) || strings.Contains(dump, "rotated") {
			t.Errorf("request log holds the key: %s", dump)
		}
	}
	want := []seen{{false, false}, {true, false}, {true, false}, {true, true}, {true, false}, {true, true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("key log (-want +got):\n%s", diff)
	}
}

// signer signs requests as docs/protocol.md §1 says a newest client must.
type signer struct{ priv ed25519.PrivateKey }

func (sg signer) headers(rawQuery, nonce string) map[string]string {
	msg := "GET\n" + Path + "\n" + rawQuery + "\x00" + nonce
	sig := ed25519.Sign(sg.priv, []byte(msg))
	return map[string]string{"X-Memory-Nonce": nonce, "X-Memory-Sig": "ed25519=" + base64.StdEncoding.EncodeToString(sig)}
}

func TestSignedRequests(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	sg := signer{priv}
	other := signer{ed25519.NewKeyFromSeed([]byte(strings.Repeat("x", ed25519.SeedSize)))}
	_, ts := NewHTTPTest(t, WithVerifyKey(priv.Public().(ed25519.PublicKey)))
	query := q("since", tFrac, "peer", "me")
	nonce := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-000000000000", i) }
	tests := []struct {
		name    string
		query   string
		headers map[string]string
		want    string // error tag; "" for a 200
	}{
		{"signed", query, sg.headers(query, nonce(1)), ""},
		{"replayed nonce", query, sg.headers(query, nonce(1)), TagNonceReplayed},
		{"unsigned", query, nil, TagSigMissing},
		{"nonce only", query, map[string]string{"X-Memory-Nonce": nonce(2)}, TagSigMissing},
		{"other key", query, other.headers(query, nonce(3)), TagSigInvalid},
		{"query changed after signing", query + "&limit=5", sg.headers(query, nonce(4)), TagSigInvalid},
		{"signed the decoded query", query, sg.headers(strings.ReplaceAll(query, "%3A", ":"), nonce(5)), TagSigInvalid},
		{"nonce not a UUIDv4", query, sg.headers(query, "12345"), TagNonceMalformed},
		{"no ed25519= prefix", query, map[string]string{"X-Memory-Nonce": nonce(6), "X-Memory-Sig": strings.TrimPrefix(sg.headers(query, nonce(6))["X-Memory-Sig"], "ed25519=")}, TagSigMalformed},
		{"unpadded base64", query, map[string]string{"X-Memory-Nonce": nonce(7), "X-Memory-Sig": strings.TrimRight(sg.headers(query, nonce(7))["X-Memory-Sig"], "=")}, TagSigMalformed},
		{"signed again with a fresh nonce", query, sg.headers(query, nonce(8)), ""},
	}
	for _, tt := range tests {
		r := get(t, ts, tt.query, tt.headers)
		if tt.want == "" {
			if r.status != http.StatusOK {
				t.Errorf("%s: status %d %s, want 200", tt.name, r.status, r.body)
			}
			continue
		}
		if r.status != http.StatusUnauthorized || errorOf(t, r) != tt.want {
			t.Errorf("%s: %d %s, want 401 %s", tt.name, r.status, r.body, tt.want)
		}
	}
}

func TestPeerID(t *testing.T) {
	_, ts := NewHTTPTest(t, WithPeerID("me"))
	good := map[string]string{"X-Peer-Id": "me", "X-Agent-Id": "me"}
	tests := []struct {
		name    string
		query   string
		headers map[string]string
		status  int
	}{
		{"all three", q("peer", "me"), good, 200},
		{"no peer=", q(), good, 403},
		{"no X-Peer-Id", q("peer", "me"), map[string]string{"X-Agent-Id": "me"}, 403},
		{"wrong X-Agent-Id", q("peer", "me"), map[string]string{"X-Peer-Id": "me", "X-Agent-Id": "you"}, 403},
	}
	for _, tt := range tests {
		if r := get(t, ts, tt.query, tt.headers); r.status != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, r.status, tt.status)
		}
	}
}

func TestRequestLog(t *testing.T) {
	s, ts := NewHTTPTest(t)
	get(t, ts, "since=2026-06-01T10%3A00%3A05.5+00%3A00&peer=me&limit=7",
		map[string]string{"X-Agent-Id": "a", "X-Peer-Id": "p", "Accept": "application/json"})
	want := []Request{{
		N: 1, Method: "GET", Path: Path, RawQuery: "since=2026-06-01T10%3A00%3A05.5+00%3A00&peer=me&limit=7",
		Since: "2026-06-01T10:00:05.5 00:00", HasSince: true, Peer: "me", Limit: "7", HasLimit: true,
		AgentID: "a", PeerID: "p", Accept: "application/json", Status: 400,
	}}
	if diff := cmp.Diff(want, s.Requests()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	s.ClearRequests()
	get(t, ts, q(), nil)
	if got := s.Requests(); len(got) != 1 || got[0].N != 2 {
		t.Errorf("after ClearRequests: %+v, want request 2 only", got)
	}
}
