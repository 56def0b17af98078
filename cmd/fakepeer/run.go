package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aimemory/catchup/internal/peertest"
)

// options are the command line, validated.
type options struct {
	addr string
	rows int
	seed int64
	ties int
	peer []peertest.Option
}

// parseFlags reads args; errors name the flag.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("fakepeer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "loopback `host:port` to listen on")
	fs.IntVar(&o.rows, "rows", 60, "number of sample memories")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the sample and of tie shuffling")
	fs.IntVar(&o.ties, "ties", 3, "rows per tie group (rows sharing one updated_at)")
	gen := fs.String("generation", "newest", "server generation: v0.6, v0.7 or newest")
	key := fs.String("api-key", "", "require this X-API-Key (empty: none)")
	signing := fs.String("signing-key", "", "require requests signed by this base64 32-byte Ed25519 seed (the client's signing_key)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.rows < 0 {
		return o, fmt.Errorf("-rows: %d is negative", o.rows)
	}
	g, err := peertest.ParseGeneration(*gen)
	if err != nil {
		return o, fmt.Errorf("-generation: %w", err)
	}
	o.peer = []peertest.Option{peertest.WithGeneration(g), peertest.WithAPIKey(*key), peertest.WithSeed(o.seed)}
	if *signing != "" {
		seed, err := base64.StdEncoding.DecodeString(*signing)
		if err != nil || len(seed) != ed25519.SeedSize {
			return o, errors.New("-signing-key: want the base64 of 32 bytes")
		}
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		o.peer = append(o.peer, peertest.WithVerifyKey(pub))
	}
	return o, nil
}

// run serves the sample peer until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ln, err := listenLoopback(o.addr)
	if err != nil {
		return err
	}
	peer := peertest.New(append(o.peer, peertest.WithRows(peertest.Sample(o.rows, o.seed, o.ties)))...)
	srv := &http.Server{Handler: logged(peer, slog.New(slog.NewJSONHandler(stderr, nil))), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// listenLoopback listens on addr, refusing any host but loopback: the fake
// is for demos and tests and must not be reachable from the network.
func listenLoopback(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-addr: %w", err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("-addr %q: only a loopback address is allowed", addr)
	}
	return net.Listen("tcp", net.JoinHostPort(host, port))
}

// logged logs one line per request: what was asked and the answer, never
// the headers (they hold the API key).
func logged(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		h.ServeHTTP(sw, r)
		q := r.URL.Query()
		log.Info("request", "path", r.URL.Path, "since", q.Get("since"), "peer", q.Get("peer"),
			"limit", q.Get("limit"), "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (for faults).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
