package faultproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestToxiproxyCutsAndHeals(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	}))
	defer ts.Close()
	x := StartToxiproxy(t)
	listen := x.Proxy(t, "peer", strings.TrimPrefix(ts.URL, "http://"))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() (string, error) {
		resp, err := client.Get("http://" + listen + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	x.AddToxic(t, "peer", Toxic{Name: "cut", Type: "limit_data", Stream: "downstream", Attributes: map[string]any{"bytes": 2000}})
	if got, err := get(); err == nil {
		t.Fatalf("read %d bytes with no error through limit_data", len(got))
	}
	x.RemoveToxic(t, "peer", "cut")
	if got, err := get(); err != nil || got != body {
		t.Fatalf("after removing the toxic: %d bytes, %v", len(got), err)
	}
}
