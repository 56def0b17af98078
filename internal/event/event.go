// Package event is the operator payload of the catchup function: the action
// names, the Payload type and Parse. The function (functions/catchup) decodes
// with it and cmd/catchupctl builds payloads with it, so the two never
// disagree on a name or a field.
package event

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Actions an operator payload may ask for. A scheduled tick (EventBridge
// Scheduler or an EventBridge rule) and an empty payload mean Run.
const (
	Run              = "run"               // pull every (or the listed) peer
	Backfill         = "backfill"          // pull peers over [from, to) without moving the live watermark
	ResetWatermark   = "reset_watermark"   // set a peer's watermark, keeping the old one in history
	ListQuarantine   = "list_quarantine"   // list a peer's quarantined rows
	ReplayQuarantine = "replay_quarantine" // re-validate and write a peer's quarantined rows
	RegistryList     = "registry_list"     // list peers registered in STATE_TABLE
	RegistryPut      = "registry_put"      // add or update a registered peer
	RegistryDelete   = "registry_delete"   // remove a registered peer
	Reconcile        = "reconcile"         // walk every peer's whole feed against the table: repair, then delete under a guard
)

// Payload is the event the handler accepts.
//
// An operator payload is decoded strictly (unknown fields are an error), so a
// typo such as "dryrun" fails loudly instead of running for real.
type Payload struct {
	Action    string   `json:"action,omitempty"`
	Peers     []string `json:"peers,omitempty"`     // subset of peer ids; empty = all
	DryRun    bool     `json:"dry_run,omitempty"`   // pull and validate, write nothing
	From      string   `json:"from,omitempty"`      // backfill: exclusive lower bound (a since value)
	To        string   `json:"to,omitempty"`        // backfill: stop after rows updated at or after this
	Watermark string   `json:"watermark,omitempty"` // reset_watermark: the new value ("" = from the beginning)
	Reason    string   `json:"reason,omitempty"`    // reset_watermark: kept in the history
	Peer      *PeerArg `json:"peer,omitempty"`      // registry_put
	Disabled  bool     `json:"disabled,omitempty"`  // registry_put
	Limit     int      `json:"limit,omitempty"`     // list_quarantine: at most this many rows
	// MaxDeletions lets a reconcile delete up to this many, guard or not.
	MaxDeletions int `json:"max_deletions,omitempty"`
}

// PeerArg is a peer as an operator registers it.
type PeerArg struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	SecretID string `json:"secret_id,omitempty"`
}

// scheduledKeys are the keys of an EventBridge envelope.
var scheduledKeys = map[string]bool{
	"version": true, "id": true, "detail-type": true, "source": true, "account": true,
	"time": true, "region": true, "resources": true, "detail": true,
}

// Parse decodes a payload: empty or an EventBridge envelope is a scheduled
// run; anything else must be a well-formed operator payload.
func Parse(raw []byte) (Payload, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return Payload{Action: Run}, nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return Payload{}, fmt.Errorf("event: not a JSON object: %w", err)
	}
	if isScheduled(keys) {
		return Payload{Action: Run}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var e Payload
	if err := dec.Decode(&e); err != nil {
		return Payload{}, fmt.Errorf("event: %w", err)
	}
	if e.Action == "" {
		e.Action = Run
	}
	return e, nil
}

func isScheduled(keys map[string]json.RawMessage) bool {
	if len(keys) == 0 {
		return true
	}
	for k := range keys {
		if !scheduledKeys[k] {
			return false
		}
	}
	return true
}
