package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
	// tlsCA, when set, is where the PEM of the CA made at start goes: the
	// peer then serves HTTPS with a certificate from that CA.
	tlsCA string
	// keyDir, when set, holds the enrolled keys of a v1 peer: <id>.pub, the
	// 32 raw bytes `catchupctl identity pubkey` writes.
	keyDir string
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
	gen := fs.String("generation", "newest", "server generation: v0.6, v0.7, newest or v1")
	fs.StringVar(&o.tlsCA, "tls-ca", "", "serve HTTPS with a certificate from a CA made at start, writing the CA's PEM (a client's ca_pem) to this `file`")
	fs.StringVar(&o.keyDir, "key-dir", "", "v1 only: enrolled keys, `dir`/<X-Peer-Id>.pub (32 raw bytes), read at each request as a v1 daemon reads its key_dir")
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
	if o.keyDir != "" {
		if g < peertest.V1 {
			return o, fmt.Errorf("-key-dir: only a v1 peer checks enrolled keys (-generation %s)", g)
		}
		if st, err := os.Stat(o.keyDir); err != nil || !st.IsDir() {
			return o, fmt.Errorf("-key-dir %q: not a directory", o.keyDir)
		}
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
	defer ln.Close()
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	peer := peertest.New(append(o.peer, peertest.WithRows(peertest.Sample(o.rows, o.seed, o.ties)))...)
	var h http.Handler = peer
	if o.keyDir != "" {
		h = enrolFrom(o.keyDir, peer, h, log)
	}
	srv := &http.Server{Handler: logged(h, log), ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if o.tlsCA != "" {
		if srv.TLSConfig, err = makeCA(o.tlsCA); err != nil {
			return err
		}
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn) // a client that distrusts the CA shows here
		scheme = "https"
	}
	fmt.Fprintf(stdout, "listening %s://%s\n", scheme, ln.Addr())
	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// makeCA makes a local CA, as a v1 daemon does, writes its PEM to path and
// returns a server TLS configuration with a certificate from it for
// 127.0.0.1 and localhost. The CA's key stays in memory.
func makeCA(path string) (*tls.Config, error) {
	ca, err := peertest.NewCA("fakepeer local CA")
	if err != nil {
		return nil, fmt.Errorf("-tls-ca: %w", err)
	}
	cfg, err := ca.TLSConfig(nil)
	if err != nil {
		return nil, fmt.Errorf("-tls-ca: %w", err)
	}
	if err := os.WriteFile(path, ca.PEM, 0o644); err != nil {
		return nil, fmt.Errorf("-tls-ca: %w", err)
	}
	return cfg, nil
}

// enrolFrom enrols, before each request reaches h, the key in
// dir/<X-Peer-Id>.pub (or none when the file is absent or not 32 bytes), so
// an operator enrols a caller by copying its .pub into dir while the peer
// runs. An id that is not a plain file name is never looked up.
func enrolFrom(dir string, peer *peertest.Server, h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Peer-Id")
		if id != "" && id == filepath.Base(id) && !strings.HasPrefix(id, ".") && !strings.ContainsAny(id, `/\`) {
			var pub ed25519.PublicKey
			raw, err := os.ReadFile(filepath.Join(dir, id+".pub"))
			switch {
			case err == nil && len(raw) == ed25519.PublicKeySize:
				pub = raw
			case err == nil:
				log.Warn("enrolled key ignored: want 32 raw bytes", "peer_id", id, "bytes", len(raw))
			}
			peer.EnrolKey(id, pub)
		}
		h.ServeHTTP(w, r)
	})
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
