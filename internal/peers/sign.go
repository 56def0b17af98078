package peers

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// sigPrefix names the algorithm in X-Memory-Sig.
const sigPrefix = "ed25519="

// signedBytes is what a newest peer verifies (docs/protocol.md §1): the method,
// the path and the raw query, one per line, then a NUL byte and the nonce.
func signedBytes(path, rawQuery, nonce string) []byte {
	msg := make([]byte, 0, len("GET\n\n\x00")+len(path)+len(rawQuery)+len(nonce))
	msg = append(msg, "GET\n"...)
	msg = append(msg, path...)
	msg = append(msg, '\n')
	msg = append(msg, rawQuery...)
	msg = append(msg, 0)
	msg = append(msg, nonce...)
	return msg
}

// sign returns the X-Memory-Sig value for one request.
func sign(key ed25519.PrivateKey, path, rawQuery, nonce string) string {
	sig := ed25519.Sign(key, signedBytes(path, rawQuery, nonce))
	return sigPrefix + base64.StdEncoding.EncodeToString(sig)
}

// newNonce returns a fresh random UUID (version 4) from crypto/rand.
func newNonce() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:]), nil
}
