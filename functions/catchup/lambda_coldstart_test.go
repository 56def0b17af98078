package main

// The cold start: binary sizes and the emulator's Init Duration, checked
// against issue 5's targets and, with -update-benchmarks, written to the
// "Cold start" section of BENCHMARKS.md.

import (
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// coldStartOut, when set, receives the "## Cold start" section of
// BENCHMARKS.md (scripts/bench.sh sets it and writes the file; no test
// rewrites BENCHMARKS.md).
var coldStartOut = flag.String("cold-start-section", "", "write the Cold start section of BENCHMARKS.md to this `file`")

const (
	coldStarts = 7
	// maxBinary is issue 5's target for the deployed binary.
	maxBinary = 15 << 20
	// maxInitMs fails the test at five times issue 5's 50 ms target: far
	// enough for a shared CI machine's noise, near enough to catch a network
	// call or a heavy computation at init.
	maxInitMs = 250
)

// TestLambdaBuildForTheTemplate cross-builds the bootstrap sam build makes
// (linux/arm64) and checks what it is; it needs neither moto nor arm64.
func TestLambdaBuildForTheTemplate(t *testing.T) {
	bin := buildBootstrap(t, t.TempDir(), "")
	if size := fileSize(t, bin); size > maxBinary {
		t.Errorf("bootstrap is %s, over issue 5's %s", mb(size), mb(maxBinary))
	}
}

func TestLambdaColdStart(t *testing.T) {
	cfg := awsConfig(t)
	dir := t.TempDir()
	arm := buildBootstrap(t, filepath.Join(dir, "arm64"), "")
	native := buildBootstrap(t, filepath.Join(dir, runtime.GOARCH), runtime.GOARCH)
	rie := buildRIE(t, dir)
	f := newLambdaFixture(t, cfg)
	var inits []float64
	for range coldStarts {
		em := startEmulator(t, rie, native, f.environ())
		if _, fnErr := em.invoke(t, eventFile(t, "registry-list.json")); fnErr != "" {
			t.Fatal(fnErr)
		}
		em.stop()
		ds := em.initDurations()
		if len(ds) != 1 {
			t.Fatalf("%d INIT REPORT lines in one cold start:\n%s", len(ds), em.logs.String())
		}
		inits = append(inits, ds[0])
	}
	slices.Sort(inits)
	median := inits[len(inits)/2]
	if median > maxInitMs {
		t.Errorf("median init %.1f ms, over %d ms", median, maxInitMs)
	}
	section := coldStartSection(inits, fileSize(t, arm), zipSize(t, arm), fileSize(t, native))
	t.Log("\n" + section)
	if *coldStartOut != "" {
		if err := os.WriteFile(*coldStartOut, []byte(section), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func coldStartSection(inits []float64, arm, armZip, native int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Cold start\n\n")
	fmt.Fprintf(&b, "Reproduce (with moto running, as `bash .ci/run` starts it):\n\n")
	fmt.Fprintf(&b, "    go test ./functions/catchup -run TestLambdaColdStart -count=1 -v (scripts/bench.sh runs it)\n\n")
	fmt.Fprintf(&b, "The test builds `bootstrap` with the Makefile target `sam build` runs, then starts it %d times\n", len(inits))
	fmt.Fprintf(&b, "under the Lambda Runtime Interface Emulator pinned in go.mod, a fresh process each time, and\n")
	fmt.Fprintf(&b, "reads the emulator's `INIT REPORT (durationMs)`: from starting `bootstrap` to its first request\n")
	fmt.Fprintf(&b, "for work (process start, Go runtime, config, AWS clients built once), what Lambda reports as\n")
	fmt.Fprintf(&b, "Init Duration. (The `Init Duration` on the emulator's REPORT line times only its own\n")
	fmt.Fprintf(&b, "asynchronous Init call, a few microseconds.) The emulator runs the native build; Lambda's own\n")
	fmt.Fprintf(&b, "sandbox start is not in the figure.\n\n")
	fmt.Fprintf(&b, "| what | figure | target (issue 5) |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| `bootstrap` linux/arm64, as deployed | %s (zipped %s) | under 15 MB |\n", mb(arm), mb(armZip))
	fmt.Fprintf(&b, "| `bootstrap` linux/%s, run under the emulator | %s | |\n", runtime.GOARCH, mb(native))
	fmt.Fprintf(&b, "| Init Duration, min / median / max of %d | %.1f / %.1f / %.1f ms | under 50 ms |\n\n",
		len(inits), inits[0], inits[len(inits)/2], inits[len(inits)-1])
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, linux/%s, %s, %s.\n", cpuModel(), runtime.NumCPU(), runtime.GOARCH,
		runtime.Version(), time.Now().UTC().Format("2006-01-02"))
	return b.String()
}

// zipSize is the size of the deployment package sam would upload.
func zipSize(t *testing.T, bin string) int64 {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := io.Copy(w, src); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return int64(buf.Len())
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(b); m != nil {
		return strings.TrimSpace(string(m[1]))
	}
	return "unknown CPU"
}
