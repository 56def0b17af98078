package peertest

import (
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// Error tags a newest server answers in a 401 for a signed-request failure.
const (
	TagSigMissing     = "x_memory_sig_missing"     // X-Memory-Nonce or X-Memory-Sig absent
	TagSigMalformed   = "x_memory_sig_malformed"   // not "ed25519=" + padded std base64 of 64 bytes
	TagNonceMalformed = "x_memory_nonce_malformed" // nonce not a UUIDv4
	TagSigInvalid     = "x_memory_sig_invalid"     // signature does not verify
	TagNonceReplayed  = "x_memory_nonce_replayed"  // nonce seen before
	// MsgBadKey is the 401 error for a missing or wrong X-API-Key.
	MsgBadKey = "missing or invalid API key"
)

// checkKey enforces the API key, when one is set, and records what the
// request carried (never the value). The caller holds s.mu.
func (s *Server) checkKey(r *http.Request, rec *Request) *reject {
	got, present := r.Header["X-Api-Key"]
	rec.KeyMatched = present && s.apiKey != "" &&
		subtle.ConstantTimeCompare([]byte(got[0]), []byte(s.apiKey)) == 1
	if s.apiKey != "" && !rec.KeyMatched {
		return &reject{status: http.StatusUnauthorized, msg: MsgBadKey}
	}
	return nil
}

// checkSig enforces a signed request when a public key is enrolled: the
// Ed25519 signature in X-Memory-Sig must cover "METHOD\nPATH\nRAWQUERY", a
// 0x00 byte, then the nonce, exactly as sent; a nonce is accepted once. The
// caller holds s.mu.
func (s *Server) checkSig(r *http.Request, rec *Request) *reject {
	nonce, sig := r.Header.Get("X-Memory-Nonce"), r.Header.Get("X-Memory-Sig")
	rec.Nonce = nonce
	if s.verifyKey == nil {
		return nil
	}
	unauth := func(tag string) *reject { return &reject{status: http.StatusUnauthorized, msg: tag} }
	if nonce == "" || sig == "" {
		return unauth(TagSigMissing)
	}
	b64, ok := strings.CutPrefix(sig, "ed25519=")
	raw, err := base64.StdEncoding.Strict().DecodeString(b64)
	if !ok || err != nil || len(raw) != ed25519.SignatureSize {
		return unauth(TagSigMalformed)
	}
	if !isUUIDv4(nonce) {
		return unauth(TagNonceMalformed)
	}
	msg := r.Method + "\n" + r.URL.EscapedPath() + "\n" + r.URL.RawQuery + "\x00" + nonce
	if !ed25519.Verify(s.verifyKey, []byte(msg), raw) {
		return unauth(TagSigInvalid)
	}
	if s.nonces[nonce] {
		return unauth(TagNonceReplayed)
	}
	s.nonces[nonce] = true
	rec.SigValid = true
	return nil
}

// checkPeer enforces the configured local id of the caller, when one is
// set: X-Peer-Id, X-Agent-Id and peer= must all equal it. The real server's
// answer to a stranger is not known; the fake makes it loud, a 403.
func (s *Server) checkPeer(r *http.Request, q query) *reject {
	if s.peerID == "" {
		return nil
	}
	if r.Header.Get("X-Peer-Id") != s.peerID || r.Header.Get("X-Agent-Id") != s.peerID || q.peer != s.peerID {
		return &reject{status: http.StatusForbidden, msg: "unknown peer"}
	}
	return nil
}

// isUUIDv4 reports whether s is a canonical UUID of version 4, variant 10.
func isUUIDv4(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", rune(c)):
			return false
		}
	}
	return s[14] == '4' && strings.ContainsRune("89abAB", rune(s[19]))
}
