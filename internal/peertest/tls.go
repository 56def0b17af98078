package peertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// CA is an installation-local certificate authority, as a v1 daemon makes
// for itself (<key_dir>/tls/local-ca.pem), for tests and demos. Its key
// never leaves the process.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	PEM  []byte // the CA certificate, what a client puts in ca_pem
}

// NewCA makes a CA named name, valid for a day.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// ServerCert issues a server certificate for hosts (names or IPs).
func (ca *CA) ServerCert(hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// TLSConfig is a server TLS configuration with a certificate from ca for
// 127.0.0.1 and localhost, counting handshakes in *handshakes when set.
func (ca *CA) TLSConfig(handshakes *atomic.Int64) (*tls.Config, error) {
	cert, err := ca.ServerCert("127.0.0.1", "localhost")
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if handshakes != nil {
		cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			handshakes.Add(1)
			return nil, nil
		}
	}
	return cfg, nil
}

// V1Peer is a V1 Server on loopback HTTPS with a certificate from its own CA.
type V1Peer struct {
	*Server
	TS *httptest.Server
	CA *CA
	// Handshakes counts TLS handshakes begun, failed ones included: a
	// client that does not trust the CA shows here, not in Requests.
	Handshakes atomic.Int64
}

// NewV1HTTPTest starts a V1 Server built from opts (the generation forced
// to V1) on loopback HTTPS, its certificate issued by a CA made for it,
// closed when t ends. TS.URL is the peer's base URL; CA.PEM goes in the
// client's ca_pem. The server's own TLS errors are not logged.
func NewV1HTTPTest(t testing.TB, opts ...Option) *V1Peer {
	t.Helper()
	ca, err := NewCA("peertest local CA")
	if err != nil {
		t.Fatal(err)
	}
	p := &V1Peer{Server: New(append(opts, WithGeneration(V1))...), CA: ca}
	cfg, err := ca.TLSConfig(&p.Handshakes)
	if err != nil {
		t.Fatal(err)
	}
	p.TS = httptest.NewUnstartedServer(p.Server)
	p.TS.TLS = cfg
	p.TS.Config.ErrorLog = quietLog()
	p.TS.StartTLS()
	t.Cleanup(p.TS.Close)
	return p
}

var _ http.Handler = (*Server)(nil)

// quietLog drops the server's "TLS handshake error" lines, which a test of
// an untrusting client provokes on purpose.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }
