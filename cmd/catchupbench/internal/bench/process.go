package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"syscall"
)

// ChildFlag is the flag that makes the harness's command a child: it reads
// a Spec on stdin, runs it and writes the Result on stdout.
const ChildFlag = "-child"

// Spawn runs spec in a child process (exe ChildFlag) and returns its result
// with the child's CPU time from its rusage. A child that measures nothing
// but the catch-up shows what the function needs, without the fake peers or
// the rows they serve; it reports its own peak resident set (see
// peakResidentBytes for why not ru_maxrss).
func Spawn(ctx context.Context, exe string, spec Spec) (Result, error) {
	in, err := json.Marshal(spec)
	if err != nil {
		return Result{}, err
	}
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, exe, ChildFlag)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, &errOut
	runErr := cmd.Run()
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return Result{}, fmt.Errorf("child %s: %v; stderr: %s", spec.Mode, runErr, tail(errOut.Bytes()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.CPUS = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
	}
	if runErr != nil {
		return res, fmt.Errorf("child %s: %v; stderr: %s", spec.Mode, runErr, tail(errOut.Bytes()))
	}
	return res, nil
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

// ServeChild is the child's side of Spawn: a Spec on in, a Result on out. A
// failed measurement still writes what it measured, and returns the error.
func ServeChild(ctx context.Context, in io.Reader, out io.Writer) error {
	var spec Spec
	if err := json.NewDecoder(in).Decode(&spec); err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	res, err := RunChild(ctx, spec)
	if encErr := json.NewEncoder(out).Encode(res); encErr != nil {
		return encErr
	}
	return err
}
