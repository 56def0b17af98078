package peers

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePeers(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Peer
		wantErr string
	}{
		{"normalized forms", `[
			{"id":"a","url":"https://a.example.com/"},
			{"id":"b","url":"https://b.example.com/api/v1/sync/push","secret_id":"arn:aws:secretsmanager:eu-west-1:123:secret:b-AbC"},
			{"id":"c","url":"https://c.example.com:8443/base/api/v1/sync/push/"},
			{"id":"d","url":"http://localhost:9077"},
			{"id":"e","url":"http://127.8.9.10/"},
			{"id":"f","url":"http://[::1]:80"},
			{"id":"g_1.x:y@z-","url":" https://g.example.com/p%20q "}
		]`, []Peer{
			{ID: "a", URL: "https://a.example.com"},
			{ID: "b", URL: "https://b.example.com", SecretID: "arn:aws:secretsmanager:eu-west-1:123:secret:b-AbC"},
			{ID: "c", URL: "https://c.example.com:8443/base"},
			{ID: "d", URL: "http://localhost:9077"},
			{ID: "e", URL: "http://127.8.9.10"},
			{ID: "f", URL: "http://[::1]:80"},
			{ID: "g_1.x:y@z-", URL: "https://g.example.com/p%20q"},
		}, ""},
		{"plain http elsewhere", `[{"id":"a","url":"https://a.example.com"},{"id":"b","url":"https://b"},{"id":"c","url":"http://example.com"}]`,
			nil, `[2].url: "http://example.com" must be https (plain http only for loopback hosts)`},
		{"http to a private address", `[{"id":"a","url":"http://10.0.0.1"}]`,
			nil, `[0].url: "http://10.0.0.1" must be https (plain http only for loopback hosts)`},
		{"http to a name that only looks local", `[{"id":"a","url":"http://localhost.example.com"}]`,
			nil, `[0].url: "http://localhost.example.com" must be https (plain http only for loopback hosts)`},
		{"credentials in the url", `[{"id":"a","url":"https://user:hunter2@a.example.com"}]`,
			nil, `[0].url: "https://[redacted]@a.example.com" holds credentials (user@); put the key in secret_id`},
		{"query", `[{"id":"a","url":"https://a.example.com/?key=x"}]`,
			nil, `[0].url: "https://a.example.com/?key=x" has a query; give the base URL only`},
		{"fragment", `[{"id":"a","url":"https://a.example.com/#x"}]`,
			nil, `[0].url: "https://a.example.com/#x" has a fragment; give the base URL only`},
		{"relative", `[{"id":"a","url":"a.example.com"}]`,
			nil, `[0].url: "a.example.com" must be an absolute https:// URL`},
		{"ftp", `[{"id":"a","url":"ftp://a.example.com"}]`,
			nil, `[0].url: "ftp://a.example.com" must be an absolute https:// URL`},
		{"no host", `[{"id":"a","url":"https:///path"}]`, nil, `[0].url: "https:///path" has no host`},
		{"not a url", `[{"id":"a","url":"https://a b.com"}]`, nil, `[0].url: "https://a b.com" is not a URL`},
		{"url missing", `[{"id":"a"}]`, nil, `[0].url: empty`},
		{"id missing", `[{"url":"https://a.example.com"}]`, nil, `[0].id: empty`},
		{"id charset", `[{"id":"a b","url":"https://a.example.com"}]`, nil, `[0].id: "a b" holds ' '; only A-Za-z0-9_.:@- allowed`},
		{"id too long", `[{"id":"` + strings.Repeat("i", 129) + `","url":"https://a.example.com"}]`, nil, `[0].id: 129 bytes, at most 128`},
		{"duplicate id", `[{"id":"a","url":"https://a.example.com"},{"id":"b","url":"https://b.example.com"},{"id":"a","url":"https://c.example.com"}]`,
			nil, `[2].id: "a" duplicates [0].id`},
		{"secret id with space", `[{"id":"a","url":"https://a.example.com","secret_id":"my secret"}]`,
			nil, `[0].secret_id: "my secret" holds white space or a control character`},
		{"unknown key", `[{"id":"a","url":"https://a.example.com","secretid":"s"}]`, nil, `[0]: json: unknown field "secretid"`},
		{"id a number", `[{"id":1,"url":"https://a.example.com"}]`, nil, `[0].id: a JSON number, want a string`},
		{"element not an object", `["https://a.example.com"]`, nil, `[0]: not an object {"id","url","secret_id"}`},
		{"empty array", `[]`, nil, `empty array: at least one peer is required`},
		{"not an array", `{"id":"a"}`, nil, `a JSON object, want an array of {"id","url","secret_id"} objects`},
		{"null", `null`, nil, `empty array: at least one peer is required`},
		{"not JSON", `[{"id":"a",}]`, nil, `not a JSON array of {"id","url","secret_id"} objects: invalid JSON at byte 12`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePeers(tt.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("peers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeerValidateIsIdempotent(t *testing.T) {
	p := Peer{ID: "a", URL: "https://a.example.com/x/api/v1/sync/push/"}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	first := p.URL
	if err := p.Validate(); err != nil || p.URL != first {
		t.Errorf("second Validate: %v, URL %q, want %q", err, p.URL, first)
	}
}

func TestURLErrorsNeverEchoCredentials(t *testing.T) {
	for _, u := range []string{
		"https://user:hunter2@a.example.com",
		"http://user:hunter2@example.com",
		"https://user:hunter2@[::1",
		"https://user:hunter2@a.example.com:bad/",
		"ftp://user:hunter2@a.example.com",
		"user:hunter2@a.example.com",
		"https://us%zzer:hunter2@a.example.com",
	} {
		_, err := ParsePeers(`[{"id":"a","url":` + jsonString(u) + `}]`)
		if err == nil {
			t.Errorf("%s: accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error %q holds the password", u, err)
		}
	}
}
