package main

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Actions an operator payload may ask for. A scheduled tick (EventBridge
// Scheduler or an EventBridge rule) and an empty payload mean actionRun.
const (
	actionRun              = "run"               // pull every (or the listed) peer
	actionBackfill         = "backfill"          // pull peers over [from, to) without moving the live watermark
	actionResetWatermark   = "reset_watermark"   // set a peer's watermark, keeping the old one in history
	actionListQuarantine   = "list_quarantine"   // list a peer's quarantined rows
	actionReplayQuarantine = "replay_quarantine" // re-validate and write a peer's quarantined rows
	actionRegistryList     = "registry_list"     // list peers registered in STATE_TABLE
	actionRegistryPut      = "registry_put"      // add or update a registered peer
	actionRegistryDelete   = "registry_delete"   // remove a registered peer
)

// event is the payload the handler accepts.
//
// An operator payload is decoded strictly (unknown fields are an error), so a
// typo such as "dryrun" fails loudly instead of running for real.
type event struct {
	Action    string   `json:"action,omitempty"`
	Peers     []string `json:"peers,omitempty"`     // subset of peer ids; empty = all
	DryRun    bool     `json:"dry_run,omitempty"`   // pull and validate, write nothing
	From      string   `json:"from,omitempty"`      // backfill: exclusive lower bound (a since value)
	To        string   `json:"to,omitempty"`        // backfill: stop after rows updated at or after this
	Watermark string   `json:"watermark,omitempty"` // reset_watermark: the new value ("" = from the beginning)
	Reason    string   `json:"reason,omitempty"`    // reset_watermark: kept in the history
	Peer      *peerArg `json:"peer,omitempty"`      // registry_put
	Disabled  bool     `json:"disabled,omitempty"`  // registry_put
	Limit     int      `json:"limit,omitempty"`     // list_quarantine: at most this many rows
	// MaxDeletions lets a reconcile delete up to this many, guard or not.
	MaxDeletions int `json:"max_deletions,omitempty"`
}

// peerArg is a peer as an operator registers it.
type peerArg struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	SecretID string `json:"secret_id,omitempty"`
}

// scheduledKeys are the keys of an EventBridge envelope.
var scheduledKeys = map[string]bool{
	"version": true, "id": true, "detail-type": true, "source": true, "account": true,
	"time": true, "region": true, "resources": true, "detail": true,
}

// parseEvent decodes a payload: empty or an EventBridge envelope is a scheduled
// run; anything else must be a well-formed operator payload.
func parseEvent(raw json.RawMessage) (event, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return event{Action: actionRun}, nil
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return event{}, fmt.Errorf("event: not a JSON object: %w", err)
	}
	if isScheduled(keys) {
		return event{Action: actionRun}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var e event
	if err := dec.Decode(&e); err != nil {
		return event{}, fmt.Errorf("event: %w", err)
	}
	if e.Action == "" {
		e.Action = actionRun
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
