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

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/config"
	"github.com/aimemory/catchup/internal/logging"
	"github.com/aimemory/catchup/internal/operator"
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
	for _, v := range config.Vars {
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
	a := &app{Handler: &operator.Handler{Log: logging.New(&logs, 0, logging.Fields{}), Now: time.Now,
		Runner: catchup.New(nil, nil, catchup.Options{})}, log: logging.New(&logs, 0, logging.Fields{})}
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
