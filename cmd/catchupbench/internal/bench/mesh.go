package bench

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/peertest"
)

// Mesh is a set of fake peers, each a peertest.Server on its own loopback
// listener, as real peers are separate hosts.
type Mesh struct {
	Peers   []peers.Peer       // id peer-NNN, url http://127.0.0.1:PORT
	Servers []*peertest.Server // Servers[i] serves Peers[i]
	https   []*http.Server
}

// StartMesh serves backlogs[i] from peer i. Every peer answers as a newest
// server and, when delay > 0, waits that long before each answer (a peer far
// away, or slow to query).
func StartMesh(backlogs [][]map[string]any, delay time.Duration) (*Mesh, error) {
	m := &Mesh{}
	for i, rows := range backlogs {
		opts := []peertest.Option{peertest.WithSeed(int64(i + 1)), peertest.WithRows(rows)}
		if delay > 0 {
			opts = append(opts, peertest.WithFaultFunc(func(*http.Request, int) peertest.Fault {
				return peertest.Fault{Delay: delay}
			}))
		}
		if err := m.add(fmt.Sprintf("peer-%03d", i), peertest.New(opts...)); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

func (m *Mesh) add(id string, s *peertest.Server) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for %s: %w", id, err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(fmt.Sprintf("bench: peer %s stopped serving: %v", id, err))
		}
	}()
	m.Peers = append(m.Peers, peers.Peer{ID: id, URL: "http://" + l.Addr().String()})
	m.Servers = append(m.Servers, s)
	m.https = append(m.https, hs)
	return nil
}

// Close stops every peer.
func (m *Mesh) Close() {
	for _, hs := range m.https {
		hs.Close()
	}
}

// Split cuts rows into consecutive slices of the given sizes, so that each
// peer holds its own memories (distinct ids) and its own tie groups. The
// sizes must add up to at most len(rows).
func Split(rows []map[string]any, sizes []int) [][]map[string]any {
	out := make([][]map[string]any, len(sizes))
	at := 0
	for i, n := range sizes {
		out[i] = rows[at : at+n]
		at += n
	}
	return out
}

// Even returns p sizes adding up to n, differing by at most one.
func Even(n, p int) []int {
	sizes := make([]int, p)
	for i := range sizes {
		sizes[i] = n / p
		if i < n%p {
			sizes[i]++
		}
	}
	return sizes
}
