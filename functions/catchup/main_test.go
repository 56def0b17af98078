package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/logging"
)

// buildCatchup builds the command into a temporary directory.
func buildCatchup(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "catchup")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestVersionHelpAndInitErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCatchup(t)
	out, err := exec.Command(bin, "-version").Output()
	if err != nil || !strings.Contains(string(out), "github.com/aimemory/catchup") {
		t.Fatalf("-version: %v %q", err, out)
	}

	var help bytes.Buffer
	cmd := exec.Command(bin, "-h")
	cmd.Stderr = &help
	_ = cmd.Run()
	h := help.String()
	flags := strings.Index(h, "-event")
	for _, v := range configVars {
		i := strings.Index(h, v.Name)
		if i < 0 || i < flags {
			t.Errorf("-h: %s missing or before the flags:\n%s", v.Name, h)
		}
		if v.Default != "" && !strings.Contains(h[i:], v.Default) {
			t.Errorf("-h: %s without its default %q", v.Name, v.Default)
		}
	}

	// A configuration error is one JSON line at ERROR naming the variable, exit 2.
	for name, env := range map[string][]string{
		"missing":   {"PATH=" + os.Getenv("PATH")},
		"log level": {"LOG_LEVEL=loud"},
	} {
		var stderr bytes.Buffer
		cmd := exec.Command(bin)
		cmd.Env = env
		cmd.Stderr = &stderr
		err := cmd.Run()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != exitConfig {
			t.Fatalf("%s: exit %v, want %d", name, err, exitConfig)
		}
		var line map[string]any
		if err := json.Unmarshal(bytes.TrimSpace(stderr.Bytes()), &line); err != nil {
			t.Fatalf("%s: not one JSON line: %q", name, stderr.String())
		}
		want := "LOCAL_AGENT_ID"
		if name == "log level" {
			want = "LOG_LEVEL"
		}
		if line["level"] != "ERROR" || !strings.Contains(line["error"].(string), want) || line["service"] != "catchup" {
			t.Errorf("%s: %v", name, line)
		}
	}
}

func TestNewLoggerLevelFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	var buf bytes.Buffer
	log, err := newLogger(&buf, env(map[string]string{"AWS_LAMBDA_LOG_LEVEL": "WARN", "LOG_LEVEL": "DEBUG"}), false)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("dropped")
	log.Warn("kept")
	if strings.Contains(buf.String(), "dropped") || !strings.Contains(buf.String(), `"level":"WARN"`) {
		t.Fatalf("WARN level: %s", buf.String())
	}
	buf.Reset()
	log, _ = newLogger(&buf, env(map[string]string{"LOG_LEVEL": "debug"}), false)
	log.Debug("shown")
	if !strings.Contains(buf.String(), "shown") || !strings.Contains(buf.String(), `"service":"catchup"`) ||
		!strings.Contains(buf.String(), `"version":`) {
		t.Fatalf("DEBUG level: %s", buf.String())
	}
	if _, err := newLogger(&buf, env(map[string]string{"AWS_LAMBDA_LOG_LEVEL": "chatty"}), true); err == nil ||
		!strings.HasPrefix(err.Error(), "AWS_LAMBDA_LOG_LEVEL") {
		t.Fatalf("bad level: %v", err)
	}
}

// logLines decodes JSON log lines.
func logLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestColdStartAndRequestID(t *testing.T) {
	var buf bytes.Buffer
	a := &app{log: logging.New(&buf, 0, logging.Fields{Service: "catchup"}), inv: &invocations{}, now: time.Now}
	for _, id := range []string{"req-1", "req-2", "req-3"} {
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id})
		if _, err := a.handle(ctx, json.RawMessage(`{"action":"nope"}`)); err == nil {
			t.Fatal("bad action accepted")
		}
	}
	lines := logLines(t, buf.Bytes())
	if len(lines) != 3 {
		t.Fatalf("lines: %v", lines)
	}
	for i, l := range lines {
		if l["cold_start"] != (i == 0) || l["request_id"] != []string{"req-1", "req-2", "req-3"}[i] {
			t.Errorf("invocation %d: %v", i, l)
		}
	}
}

func TestProgressLines(t *testing.T) {
	var logs, human bytes.Buffer
	a := &app{log: logging.New(&logs, 0, logging.Fields{}), inv: &invocations{}, human: &human}
	a.inv.start(a.log.With("request_id", "r"))
	a.progress(catchup.Progress{Peer: "p1", Pages: 4, Fetched: 4000, Applied: 3900, Cursor: "2026-01-01T00:00:00Z", RowsPerSec: 400})
	l := logLines(t, logs.Bytes())[0]
	if l["msg"] != "progress" || l["peer"] != "p1" || l["fetched"] != 4000.0 || l["applied"] != 3900.0 ||
		l["pages"] != 4.0 || l["cursor"] != "2026-01-01T00:00:00Z" || l["rows_per_sec"] != 400.0 || l["request_id"] != "r" {
		t.Fatalf("progress line: %v", l)
	}
	if !strings.Contains(human.String(), "p1: 4 pages, 4000 rows fetched, 3900 applied, 400 rows/s") {
		t.Fatalf("human line: %q", human.String())
	}
}

func TestRunLocalExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var logs bytes.Buffer
	a := &app{log: logging.New(&logs, 0, logging.Fields{}), inv: &invocations{}, now: time.Now,
		cfg:    config{},
		runner: catchup.New(nil, nil, catchup.Options{})}
	for _, c := range []struct {
		name, file string
		want       int
	}{
		{"ok: a run over no peers", write("ok.json", `{"action":"run"}`), exitOK},
		{"action failed", write("unknown.json", `{"peers":["nope"]}`), exitFailed},
		{"unreadable", filepath.Join(dir, "missing.json"), exitBadEvent},
		{"not JSON", write("bad.json", `{"action":`), exitBadEvent},
		{"bad payload: a typo", write("typo.json", `{"action":"run","dryrun":true}`), exitBadEvent},
		{"bad payload: a wrong type", write("type.json", `{"peers":"a"}`), exitBadEvent},
	} {
		var out bytes.Buffer
		if got := a.runLocal(context.Background(), c.file, &out); got != c.want {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, got, c.want, logs.String())
		}
	}
}
