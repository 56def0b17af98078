// Command fakepeer serves a sample ai-memory mesh peer on loopback, for the
// README demo and manual testing: realistic memories with tie groups, mixed
// timestamp formats and two invalid rows, answered exactly as
// internal/peertest answers them.
//
//	fakepeer -addr 127.0.0.1:0 -rows 60 -generation newest -api-key KEY -seed 1 -ties 3
//
// It prints "listening http://127.0.0.1:PORT" on stdout, logs one JSON line
// per request on stderr, and serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fakepeer:", err)
		os.Exit(2)
	}
}
