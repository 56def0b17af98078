package peers

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// marker stands for secret material inside fuzzed inputs: no error may
// ever quote it.
const marker = "Zq7xK9secret"

// FuzzParseSecret builds secret values around the marker, as a plain key,
// as either field of the JSON form, or as the whole value, and checks that
// no error quotes it and that a parsed key is what was stored.
func FuzzParseSecret(f *testing.F) {
	f.Add("", "", byte(0))
	f.Add(" ", "\n", byte(1))
	f.Add(`{"api_key":`, `}`, byte(2))
	f.Add("AAAA", "==", byte(3))
	f.Add(`"`, `\`, byte(1))
	f.Fuzz(func(t *testing.T, prefix, suffix string, form byte) {
		secret := prefix + marker + suffix
		var value string
		switch form % 4 {
		case 0:
			value = secret
		case 1:
			value = `{"api_key":` + quote(secret) + `}`
		case 2:
			value = `{"api_key":"k","signing_key":` + quote(secret) + `}`
		case 3:
			value = `{` + secret + `}`
		}
		creds, err := ParseSecret([]byte(value))
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("error %q quotes the secret", err)
			}
			return
		}
		var stored string // what JSON carries: invalid UTF-8 becomes U+FFFD
		_ = json.Unmarshal([]byte(quote(secret)), &stored)
		if form%4 == 1 && creds.APIKey != strings.TrimSpace(stored) {
			t.Fatalf("api_key %q parsed as %q", stored, creds.APIKey)
		}
	})
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// FuzzParsePeers checks two promises of the peer configuration on arbitrary
// URLs: an accepted peer is https or loopback, and an error never quotes a
// password written in the URL.
func FuzzParsePeers(f *testing.F) {
	for _, u := range []string{
		"https://peer.example", "http://127.0.0.1:8080/api/v1/sync/push", "http://localhost.", "http://[::1]/",
		"http://peer.example", "http://u:p@127.0.0.1", "http://127.0.0.1.nip.io", "HTTP://LOCALHOST", "http://0x7f.1",
		"http://[::ffff:127.0.0.1]", "http://%31%32%37.0.0.1", "//127.0.0.1", "http:127.0.0.1",
	} {
		f.Add(u, false)
		f.Add(u, true)
	}
	f.Fuzz(func(t *testing.T, raw string, withPassword bool) {
		if withPassword {
			if i := strings.Index(raw, "//"); i >= 0 {
				raw = raw[:i+2] + "user:" + marker + "@" + raw[i+2:]
			}
		}
		ps, err := ParsePeers(`[{"id":"p","url":` + quote(raw) + `}]`)
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("error %q quotes the password", err)
			}
			return
		}
		u, perr := url.Parse(ps[0].URL)
		if perr != nil {
			t.Fatalf("accepted %q, normalized to %q which does not parse: %v", raw, ps[0].URL, perr)
		}
		if u.Scheme != "https" && !isLoopback(u.Hostname()) {
			t.Fatalf("accepted %q: plain %s to %q, which is not loopback", raw, u.Scheme, u.Hostname())
		}
		if u.User != nil || strings.Contains(ps[0].URL, marker) {
			t.Fatalf("accepted %q with credentials", raw)
		}
	})
}
