package operator

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/event"
	"github.com/aimemory/catchup/internal/peers"
)

// allPeers returns the peers of PEERS followed by the enabled peers of the
// registry in STATE_TABLE (when PEER_REGISTRY is on). A registered peer whose
// id is also in PEERS is ignored with a warning: the environment wins. An
// invalid registry entry is skipped with an error line, never silently.
func (h *Handler) allPeers(ctx context.Context, log *slog.Logger) ([]peers.Peer, error) {
	all := append([]peers.Peer(nil), h.Peers...)
	if !h.PeerRegistry {
		return all, nil
	}
	reg, err := h.Store.RegistryPeers(ctx)
	if err != nil {
		if len(all) == 0 {
			return nil, fmt.Errorf("read peer registry: %w", err)
		}
		log.Error("peer registry unreadable; pulling PEERS only", "error", err)
		return all, nil
	}
	seen := make(map[string]bool, len(all)+len(reg))
	for _, p := range all {
		seen[p.ID] = true
	}
	for _, rp := range reg {
		if rp.Disabled {
			continue
		}
		if seen[rp.ID] {
			log.Warn("registered peer shadowed by PEERS", "peer", rp.ID)
			continue
		}
		p := peers.Peer{ID: rp.ID, URL: rp.URL, SecretID: rp.SecretID}
		if err := p.Validate(); err != nil {
			log.Error("invalid registered peer skipped", "peer", rp.ID, "error", err)
			continue
		}
		seen[p.ID] = true
		all = append(all, p)
	}
	return all, nil
}

// RegisteredView is a registry entry as an operator reads and writes it.
type RegisteredView struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	SecretID string `json:"secret_id,omitempty"`
	Disabled bool   `json:"disabled"`
}

// registryPut validates and stores a peer in the registry, as PEERS
// validates its entries; the stored URL is the normalized base. An id that
// PEERS already holds is refused: the environment would win, and the entry
// would do nothing but log a warning every run.
func (h *Handler) registryPut(ctx context.Context, arg *event.PeerArg, disabled bool) (any, error) {
	if arg == nil {
		return nil, fmt.Errorf("event: registry_put needs \"peer\": {\"id\", \"url\", \"secret_id\"?}")
	}
	p := peers.Peer{ID: arg.ID, URL: arg.URL, SecretID: arg.SecretID}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("event: peer: %w", err)
	}
	if slices.ContainsFunc(h.Peers, func(e peers.Peer) bool { return e.ID == p.ID }) {
		return nil, fmt.Errorf("event: peer: id: %q is in PEERS, which wins over the registry; remove it there first", p.ID)
	}
	rp := replica.RegisteredPeer{ID: p.ID, URL: p.URL, SecretID: p.SecretID, Disabled: disabled}
	if err := h.Store.PutRegistryPeer(ctx, rp); err != nil {
		return nil, err
	}
	return map[string]any{"registered": RegisteredView(rp), "registry_enabled": h.PeerRegistry}, nil
}
