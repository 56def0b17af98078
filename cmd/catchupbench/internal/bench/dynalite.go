package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Dynalite is a dynalite process (npm dynalite@4, an in-memory DynamoDB API)
// listening on 127.0.0.1, started by StartDynalite and stopped by Stop.
type Dynalite struct {
	Endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
	done     chan error
	stop     sync.Once
}

// StartDynalite starts bin (node_modules/.bin/dynalite) on a free loopback
// port with tables that become active at once, and waits until it accepts
// connections. Its output goes to log (nil: discarded).
func StartDynalite(ctx context.Context, bin string, log *os.File) (*Dynalite, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	if log != nil {
		cmd.Stdout, cmd.Stderr = log, log
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the harness
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite %s: %w", bin, err)
	}
	d := &Dynalite{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan error, 1)}
	go func() { d.done <- cmd.Wait() }()
	if err := d.wait(ctx, port, 30*time.Second); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

// wait polls the port until it accepts, the process exits or limit passes.
func (d *Dynalite) wait(ctx context.Context, port int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-d.done:
			d.done <- err
			return fmt.Errorf("dynalite exited before listening: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("dynalite did not listen within " + limit.String())
}

// PID is the process id of dynalite.
func (d *Dynalite) PID() int { return d.cmd.Process.Pid }

// Stop kills the process it started, by PID, and reaps it.
func (d *Dynalite) Stop() {
	d.stop.Do(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
}

// freePort returns a TCP port free on 127.0.0.1 at the time of asking.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
