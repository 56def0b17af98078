// Command fakepeer serves a sample ai-memory mesh peer on loopback, for the
// README demo and manual testing: realistic memories with tie groups, mixed
// timestamp formats and two invalid rows, answered exactly as
// internal/peertest answers them.
//
//	fakepeer -addr 127.0.0.1:0 -rows 60 -generation newest -api-key KEY -seed 1 -ties 3
//	fakepeer -generation v1 -tls-ca local-ca.pem -key-dir keys -api-key KEY
//
// The second is a v1 peer: HTTPS with a certificate from a CA it makes at
// start (its PEM written to -tls-ca, for the client's ca_pem), requests
// signed by a key enrolled in -key-dir (<X-Peer-Id>.pub, as `catchupctl
// identity pubkey` writes it, read at each request).
//
// It prints "listening http://127.0.0.1:PORT" (https with -tls-ca) on stdout, logs one JSON line
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
