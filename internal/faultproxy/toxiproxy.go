package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Toxiproxy is a toxiproxy server run for one test, driven by its HTTP API.
type Toxiproxy struct {
	api  string // base URL of the API
	http *http.Client
}

// StartToxiproxy builds toxiproxy-server from the version go.mod pins (the
// go command must be on PATH and the test run inside the module), starts it
// on a free loopback port, and kills it by its PID when t ends.
func StartToxiproxy(t testing.TB) *Toxiproxy {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "toxiproxy-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/Shopify/toxiproxy/v2/cmd/server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build toxiproxy-server: %v\n%s", err, out)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start toxiproxy-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	x := &Toxiproxy{api: fmt.Sprintf("http://127.0.0.1:%d", port), http: &http.Client{Timeout: 5 * time.Second}}
	x.waitReady(t)
	return x
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (x *Toxiproxy) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := x.http.Get(x.api + "/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("toxiproxy-server at %s not ready: %v", x.api, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Proxy creates a proxy named name from a free loopback port to upstream
// (host:port) and returns the address it listens on.
func (x *Toxiproxy) Proxy(t testing.TB, name, upstream string) string {
	t.Helper()
	var out struct {
		Listen string `json:"listen"`
	}
	x.call(t, http.MethodPost, "/proxies", map[string]any{
		"name": name, "listen": "127.0.0.1:0", "upstream": upstream, "enabled": true,
	}, &out)
	return out.Listen
}

// Toxic is one toxic as the API takes it, e.g. {Name: "cut", Type:
// "limit_data", Stream: "downstream", Attributes: {"bytes": 300}}.
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`   // "downstream" (to the client) or "upstream"
	Toxicity   float64        `json:"toxicity"` // fraction of connections affected; 0 means 1
	Attributes map[string]any `json:"attributes"`
}

// AddToxic adds a toxic to proxy.
func (x *Toxiproxy) AddToxic(t testing.TB, proxy string, tx Toxic) {
	t.Helper()
	if tx.Toxicity == 0 {
		tx.Toxicity = 1
	}
	x.call(t, http.MethodPost, "/proxies/"+proxy+"/toxics", tx, nil)
}

// RemoveToxic removes a toxic from proxy.
func (x *Toxiproxy) RemoveToxic(t testing.TB, proxy, name string) {
	t.Helper()
	x.call(t, http.MethodDelete, "/proxies/"+proxy+"/toxics/"+name, nil, nil)
}

func (x *Toxiproxy) call(t testing.TB, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, x.api+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := x.http.Do(req)
	if err != nil {
		t.Fatalf("toxiproxy %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("toxiproxy %s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("toxiproxy %s %s: %v in %s", method, path, err, b)
		}
	}
}
