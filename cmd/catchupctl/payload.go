package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aimemory/catchup/internal/event"
	"github.com/aimemory/catchup/internal/peers"
	"github.com/aimemory/catchup/internal/stamp"
)

const usage = `usage: catchupctl [-function NAME | -stack NAME | -invoke] ACTION [flags]
       catchupctl -version

Prints the JSON payload of ACTION or, with -function, -stack or -invoke, the
aws lambda invoke command that sends it. Without -function the function is
read from the stack's outputs (aws cloudformation describe-stacks; FunctionName,
or ReconcileFunctionName for reconcile), the stack named by -stack or else by
stack_name in ./samconfig.toml. Flags go before or after ACTION.

ACTION is the payload's action; the short names are aliases (flags in
brackets are optional):

  run                [-peers a,b] [-dry-run]  pull every peer, or the listed ones
  dry-run            [-peers a,b]             alias of run -dry-run
  backfill           -peers a,b [-from T] [-to T]
  reset_watermark    -peers a,b -watermark T|"" [-reason TEXT]   (alias reset)
  list_quarantine    -peers a,b [-limit N]                        (alias list-quarantine)
  replay_quarantine  -peers a,b [-dry-run]                        (alias replay)
  registry_put       -id ID -url URL [-secret-id ID] [-disabled]  (alias registry-put)
  registry_list                                                   (alias registry-list)
  registry_delete    -peers a,b                                   (alias registry-delete)
  reconcile          [-dry-run] [-max-deletions N]   (every enabled peer)
  identity new|pubkey                         a signing identity for v1 peers (catchupctl identity help)

What the function would refuse (a watermark or bound that is not a
timestamp, a peer id or URL it does not accept) is refused here first.
See docs/operations.md for what each does.
`

// aliases maps every accepted action name to the payload's action. The
// payload's own names are canonical; the hyphenated and short forms of
// earlier releases still work.
var aliases = map[string]string{
	event.Run: event.Run, "dry-run": event.Run, event.Backfill: event.Backfill,
	event.ResetWatermark: event.ResetWatermark, "reset-watermark": event.ResetWatermark, "reset": event.ResetWatermark,
	event.ListQuarantine: event.ListQuarantine, "list-quarantine": event.ListQuarantine,
	event.ReplayQuarantine: event.ReplayQuarantine, "replay-quarantine": event.ReplayQuarantine, "replay": event.ReplayQuarantine,
	event.RegistryPut: event.RegistryPut, "registry-put": event.RegistryPut,
	event.RegistryList: event.RegistryList, "registry-list": event.RegistryList,
	event.RegistryDelete: event.RegistryDelete, "registry-delete": event.RegistryDelete,
	event.Reconcile: event.Reconcile,
}

// payload is the event the function decodes (internal/event), except that a
// reset must send "watermark" even when it is "" (from the beginning), which
// event.Payload's omitempty field cannot; the outer field shadows it.
type payload struct {
	event.Payload
	Watermark *string `json:"watermark,omitempty"`
}

// build parses one action's flags into its payload. Errors name the flag.
func build(name string, args []string) ([]byte, error) {
	action, ok := aliases[name]
	if !ok {
		return nil, fmt.Errorf("unknown action %q (catchupctl -h lists them)", name)
	}
	fs := flag.NewFlagSet(action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	p := payload{Payload: event.Payload{Action: action, DryRun: name == "dry-run"}}
	var peerList, watermark string
	var peer event.PeerArg
	fs.StringVar(&peerList, "peers", "", "comma-separated peer ids")
	switch action {
	case event.Run, event.ReplayQuarantine:
		fs.BoolVar(&p.DryRun, "dry-run", p.DryRun, "validate, write nothing")
	case event.Backfill:
		fs.StringVar(&p.From, "from", "", "exclusive lower bound")
		fs.StringVar(&p.To, "to", "", "stop after a page reaching this")
	case event.ResetWatermark:
		fs.StringVar(&watermark, "watermark", "", `the new watermark ("" = from the beginning)`)
		fs.StringVar(&p.Reason, "reason", "", "kept in the history")
	case event.ListQuarantine:
		fs.IntVar(&p.Limit, "limit", 0, "at most this many rows")
	case event.RegistryPut:
		fs.StringVar(&peer.ID, "id", "", "peer id")
		fs.StringVar(&peer.URL, "url", "", "peer base URL")
		fs.StringVar(&peer.SecretID, "secret-id", "", "Secrets Manager id or ARN of its key")
		fs.BoolVar(&p.Disabled, "disabled", false, "keep it registered but not pulled")
	case event.Reconcile:
		fs.BoolVar(&p.DryRun, "dry-run", false, "report what it would repair and delete, write nothing")
		fs.IntVar(&p.MaxDeletions, "max-deletions", 0, "delete up to this many, whatever the guard says")
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if peerList != "" {
		p.Peers = strings.Split(peerList, ",")
	}
	if set["watermark"] {
		p.Watermark = &watermark
	}
	if action == event.RegistryPut {
		p.Peer = &peer
	}
	if err := check(name, p, set); err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// check refuses what the function would refuse: a missing flag, a peer id
// or URL internal/peers does not accept, a watermark or bound that is not a
// timestamp (internal/stamp), a negative count.
func check(name string, p payload, set map[string]bool) error {
	needsPeers := map[string]bool{event.Backfill: true, event.ResetWatermark: true, event.ListQuarantine: true,
		event.ReplayQuarantine: true, event.RegistryDelete: true}
	switch {
	case needsPeers[p.Action] && len(p.Peers) == 0:
		return fmt.Errorf("%s: -peers is required", name)
	case p.Action == event.ResetWatermark && !set["watermark"]:
		return fmt.Errorf(`%s: -watermark is required (-watermark "" pulls from the beginning)`, name)
	case p.Action == event.RegistryPut && (!set["id"] || !set["url"]):
		return fmt.Errorf("%s: -id and -url are required", name)
	case (p.Action == event.RegistryList || p.Action == event.RegistryPut) && len(p.Peers) > 0:
		return fmt.Errorf("%s: -peers is not used", name)
	case p.Action == event.Reconcile && len(p.Peers) > 0:
		return fmt.Errorf("%s: -peers is refused: a reconcile walks every enabled peer, since deleting on the absence from a subset would be wrong", name)
	case p.Limit < 0:
		return fmt.Errorf("%s: -limit: %d is negative", name, p.Limit)
	case p.MaxDeletions < 0:
		return fmt.Errorf("%s: -max-deletions: %d is negative", name, p.MaxDeletions)
	}
	for _, id := range p.Peers {
		if err := (&peers.Peer{ID: id, URL: "https://x"}).Validate(); err != nil {
			return fmt.Errorf("%s: -peers: %w", name, err)
		}
	}
	for flagName, v := range map[string]string{"from": p.From, "to": p.To} {
		if v != "" {
			if _, err := stamp.Parse(v); err != nil {
				return fmt.Errorf("%s: -%s: %w", name, flagName, err)
			}
		}
	}
	if p.Watermark != nil && *p.Watermark != "" {
		if _, err := stamp.Parse(*p.Watermark); err != nil {
			return fmt.Errorf(`%s: -watermark: %w (or "" to pull from the beginning)`, name, err)
		}
	}
	if p.Peer != nil {
		if err := (&peers.Peer{ID: p.Peer.ID, URL: p.Peer.URL, SecretID: p.Peer.SecretID}).Validate(); err != nil {
			return fmt.Errorf("%s: %s", name, flagNamed(err))
		}
	}
	return nil
}

// flagNamed is a peers.Peer validation error ("url: ...") with the field
// named as its flag ("-url: ...").
func flagNamed(err error) string {
	msg := err.Error()
	for _, field := range []string{"id", "url", "secret_id"} {
		if rest, ok := strings.CutPrefix(msg, field+": "); ok {
			return "-" + strings.ReplaceAll(field, "_", "-") + ": " + rest
		}
	}
	return msg
}

// invokeCommand is the AWS CLI v2 command that sends payload to function,
// quoted for a POSIX shell.
func invokeCommand(function string, payload []byte) string {
	return fmt.Sprintf("aws lambda invoke --function-name %s --cli-binary-format raw-in-base64-out --payload %s /dev/stdout",
		shellQuote(function), shellQuote(string(payload)))
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var errNoAction = errors.New("no action given (catchupctl -h lists them)")
