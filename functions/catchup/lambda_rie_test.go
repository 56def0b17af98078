package main

// The harness of the Lambda path test: build bootstrap with the Makefile
// target sam build runs, build the Runtime Interface Emulator (the runtime
// `sam local invoke` runs inside its container) from the go.mod tool, run one
// under the other, invoke it over HTTP, and read its REPORT lines.

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	repoRoot = "../.."
	// functionID is the template's logical id of this function, and the
	// Makefile target sam build runs for it (build-CatchupFunction).
	functionID = "CatchupFunction"
)

const rieTool = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// buildBootstrap runs `make build-CatchupFunction` into dir, for goarch (""
// keeps the Makefile's default, the template's architecture), and checks the
// binary is what the template promises: static linux ELF of that machine,
// built with lambda.norpc, -trimpath, stripped.
func buildBootstrap(t *testing.T, dir, goarch string) string {
	t.Helper()
	args := []string{"-s", "--no-print-directory", "-C", repoRoot, "build-" + functionID, "ARTIFACTS_DIR=" + dir}
	if goarch != "" {
		args = append(args, "LAMBDA_GOARCH="+goarch)
	}
	if out, err := exec.Command("make", args...).CombinedOutput(); err != nil {
		t.Fatalf("make %v: %v\n%s", args, err, out)
	}
	bin := filepath.Join(dir, "bootstrap")
	checkBuild(t, bin, goarch)
	return bin
}

func checkBuild(t *testing.T, bin, goarch string) {
	t.Helper()
	if goarch == "" {
		goarch = "arm64"
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	// -ldflags is not recorded under -trimpath; the ELF checks below see it.
	want := map[string]string{"GOOS": "linux", "GOARCH": goarch, "CGO_ENABLED": "0",
		"-tags": "lambda.norpc", "-trimpath": "true"}
	for k, v := range want {
		if settings[k] != v {
			t.Errorf("%s built with %s=%q, want %q", bin, k, settings[k], v)
		}
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	machine := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}[goarch]
	if f.Machine != machine {
		t.Errorf("%s is for %v, want %v", bin, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked; provided.al2023 wants a static binary", bin)
		}
	}
	for _, sec := range f.Sections {
		if sec.Name == ".symtab" || strings.HasPrefix(sec.Name, ".debug_") || strings.HasPrefix(sec.Name, ".zdebug_") {
			t.Errorf("%s keeps section %s; -ldflags=\"-s -w\" strips it", bin, sec.Name)
		}
	}
}

// buildRIE builds the emulator pinned in go.mod.
func buildRIE(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "aws-lambda-rie")
	cmd := exec.Command("go", "build", "-o", bin, rieTool)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", rieTool, err, out)
	}
	return bin
}

// emulator is one running aws-lambda-rie serving one bootstrap.
type emulator struct {
	url  string
	logs *syncBuffer
	stop func() // kills the emulator and the bootstrap it spawned; idempotent
}

// startEmulator runs bootstrap under the emulator with exactly env, on
// loopback ports of its own, and stops it (and the bootstrap it spawned)
// when t ends.
func startEmulator(t *testing.T, rie, bootstrap string, env []string) *emulator {
	t.Helper()
	addr, runtimeAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr,
		"--runtime-api-address", runtimeAddr, "--log-level", "info", bootstrap)
	cmd.Env = env
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The emulator starts bootstrap in a process group of its own: stop
	// both, by pid.
	stop := sync.OnceFunc(func() {
		children := childPIDs(cmd.Process.Pid)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		for _, pid := range children {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = cmd.Wait()
	})
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("emulator output:\n%s", logs.String())
		}
	})
	waitListening(t, addr)
	return &emulator{url: "http://" + addr + "/2015-03-31/functions/function/invocations", logs: logs, stop: stop}
}

// invoke posts one payload, as `aws lambda invoke` or a schedule would, and
// returns the function's response; fnErr is the error the handler returned
// ("" when it succeeded).
func (e *emulator) invoke(t *testing.T, payload []byte) (body []byte, fnErr string) {
	t.Helper()
	resp, err := http.Post(e.url, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	// A handler error comes back as the runtime's error document (with a
	// 200 or a 502, depending on the emulator's path); anything else is the
	// emulator failing.
	fnErr = functionError(body)
	if resp.StatusCode != http.StatusOK && fnErr == "" {
		t.Fatalf("invoke: status %d: %s", resp.StatusCode, body)
	}
	return body, fnErr
}

// functionError extracts errorMessage from the runtime's error document.
func functionError(body []byte) string {
	var doc struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    string  `json:"errorType"`
	}
	if jsonObject(body, &doc) && doc.ErrorMessage != nil {
		return fmt.Sprintf("%s: %s", doc.ErrorType, *doc.ErrorMessage)
	}
	return ""
}

// initReportRE matches the emulator's INIT REPORT, logged when the runtime
// is ready: from starting bootstrap to its first request for work. (The
// "Init Duration" of its REPORT line times only the emulator's own
// asynchronous Init call, a few microseconds, so it is not used.)
var initReportRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// initDurations lists the init duration of every cold start in the logs, in ms.
func (e *emulator) initDurations() []float64 {
	var ds []float64
	for _, m := range initReportRE.FindAllStringSubmatch(e.logs.String(), -1) {
		d, _ := strconv.ParseFloat(m[1], 64)
		ds = append(ds, d)
	}
	return ds
}

// childPIDs lists the children of a process (Linux /proc).
func childPIDs(pid int) []int {
	var pids []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(field); err == nil {
				pids = append(pids, n)
			}
		}
	}
	return pids
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("emulator not listening on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer collects a process's output; the emulator writes from several
// goroutines while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
