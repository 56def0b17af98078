package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aimemory/catchup/internal/event"
)

const usage = `usage: catchupctl [-function NAME] ACTION [flags]

Prints the JSON payload of ACTION, or with -function the aws lambda invoke
command that sends it. ACTION (flags in brackets are optional):

  run              [-peers a,b]             pull every peer, or the listed ones
  dry-run          [-peers a,b]             pull and validate, write nothing
  backfill         -peers a,b [-from T] [-to T]
  reset            -peers a,b -watermark T|"" [-reason TEXT]
  list-quarantine  -peers a,b [-limit N]
  replay           -peers a,b [-dry-run]
  registry-put     -id ID -url URL [-secret-id ID] [-disabled]
  registry-list
  registry-delete  -peers a,b
  identity new|pubkey                       a signing identity for v1 peers (catchupctl identity help)

See docs/operations.md for what each does.
`

// payload is the event the function decodes (internal/event), except that a
// reset must send "watermark" even when it is "" (from the beginning), which
// event.Payload's omitempty field cannot; the outer field shadows it.
type payload struct {
	event.Payload
	Watermark *string `json:"watermark,omitempty"`
}

// build parses one action's flags into its payload. Errors name the flag.
func build(action string, args []string) ([]byte, error) {
	fs := flag.NewFlagSet(action, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var p payload
	var peers, watermark string
	var peer event.PeerArg
	fs.StringVar(&peers, "peers", "", "comma-separated peer ids")
	switch action {
	case "run", "dry-run":
		p.Action, p.DryRun = event.Run, action == "dry-run"
	case "backfill":
		p.Action = event.Backfill
		fs.StringVar(&p.From, "from", "", "exclusive lower bound")
		fs.StringVar(&p.To, "to", "", "stop after a page reaching this")
	case "reset":
		p.Action = event.ResetWatermark
		fs.StringVar(&watermark, "watermark", "", `the new watermark ("" = from the beginning)`)
		fs.StringVar(&p.Reason, "reason", "", "kept in the history")
	case "list-quarantine":
		p.Action = event.ListQuarantine
		fs.IntVar(&p.Limit, "limit", 0, "at most this many rows")
	case "replay":
		p.Action = event.ReplayQuarantine
		fs.BoolVar(&p.DryRun, "dry-run", false, "validate and read only")
	case "registry-put":
		p.Action = event.RegistryPut
		fs.StringVar(&peer.ID, "id", "", "peer id")
		fs.StringVar(&peer.URL, "url", "", "peer base URL")
		fs.StringVar(&peer.SecretID, "secret-id", "", "Secrets Manager id or ARN of its key")
		fs.BoolVar(&p.Disabled, "disabled", false, "keep it registered but not pulled")
	case "registry-list":
		p.Action = event.RegistryList
	case "registry-delete":
		p.Action = event.RegistryDelete
	default:
		return nil, fmt.Errorf("unknown action %q (catchupctl -h lists them)", action)
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s: unexpected argument %q", action, fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if peers != "" {
		p.Peers = strings.Split(peers, ",")
	}
	if err := check(action, p, set); err != nil {
		return nil, err
	}
	if set["watermark"] {
		p.Watermark = &watermark
	}
	if p.Action == event.RegistryPut {
		p.Peer = &peer
	}
	return json.Marshal(p)
}

// check enforces the flags an action cannot do without; the function
// validates the values.
func check(action string, p payload, set map[string]bool) error {
	needsPeers := map[string]bool{"backfill": true, "reset": true, "list-quarantine": true, "replay": true, "registry-delete": true}
	switch {
	case needsPeers[action] && len(p.Peers) == 0:
		return fmt.Errorf("%s: -peers is required", action)
	case action == "reset" && !set["watermark"]:
		return errors.New(`reset: -watermark is required (-watermark "" pulls from the beginning)`)
	case action == "registry-put" && (!set["id"] || !set["url"]):
		return errors.New("registry-put: -id and -url are required")
	case (action == "registry-list" || action == "registry-put") && len(p.Peers) > 0:
		return fmt.Errorf("%s: -peers is not used", action)
	}
	return nil
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
