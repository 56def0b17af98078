// Command catchupctl builds the operator payloads the catchup function
// accepts (the files of events/, from flags) and prints them, or the
// `aws lambda invoke` command that sends one. It invokes nothing itself; to
// name the function from a stack it runs `aws cloudformation describe-stacks`.
//
//	catchupctl reset_watermark -peers alpha -watermark 2026-05-01T00:00:00Z -reason "peer restored a backup"
//	catchupctl registry_put -id gamma -url https://gamma.example.net -function catchup-CatchupFunction-XYZ
//	catchupctl -stack catchup reconcile -dry-run
//	catchupctl identity new -ca-pem local-ca.pem > secret.json
//	catchupctl identity pubkey -secret secret.json -id replica-1
//	catchupctl -version
//
// The function checks every payload strictly; catchupctl refuses first what
// it would refuse, and saves typing JSON by hand. Outside Lambda,
// `catchup -event FILE` runs a saved payload.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aimemory/catchup/internal/buildinfo"
	"github.com/aimemory/catchup/internal/event"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "catchupctl:", err)
		os.Exit(2)
	}
}

// globals are catchupctl's own flags, accepted before or after the action.
type globals struct {
	function, stack string
	invoke, version bool
	help            bool
}

// boolFlags are the action flags that take no value, so that the action is
// found as the first argument that is neither a flag nor a flag's value.
var boolFlags = map[string]bool{"dry-run": true, "disabled": true}

// splitArgs takes the global flags out of args wherever they are and
// returns them, the action and the action's own flags in their order.
func splitArgs(args []string) (g globals, action string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || a == "-" {
			if action == "" {
				action = a
				continue
			}
			rest = append(rest, a)
			continue
		}
		switch name {
		case "function", "stack":
			if !hasValue {
				if i+1 >= len(args) {
					return g, "", nil, fmt.Errorf("-%s needs a value", name)
				}
				i++
				value = args[i]
			}
			if value == "" {
				return g, "", nil, fmt.Errorf("-%s: empty", name)
			}
			if name == "function" {
				g.function = value
			} else {
				g.stack = value
			}
		case "invoke":
			g.invoke = true
		case "version":
			g.version = true
		case "h", "help":
			g.help = true
		default:
			rest = append(rest, a)
			if !hasValue && !boolFlags[name] && i+1 < len(args) {
				i++
				rest = append(rest, args[i])
			}
		}
	}
	return g, action, rest, nil
}

// run parses [global flags] ACTION [flags] and writes the payload, or the
// invoke command when a function or stack is named or -invoke is given.
func run(args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "identity" {
		return identity(args[1:], os.Stdin, out, os.Stderr, os.Getenv)
	}
	g, action, rest, err := splitArgs(args)
	if err != nil {
		return err
	}
	switch {
	case g.version:
		_, err := fmt.Fprintln(out, buildinfo.Read().String())
		return err
	case g.help || action == "help" || action == "" && len(rest) == 0:
		_, err := fmt.Fprint(out, usage)
		return err
	case action == "":
		return errNoAction
	}
	payload, err := build(action, rest)
	if err != nil {
		return err
	}
	if g.function == "" && g.stack == "" && !g.invoke {
		_, err = fmt.Fprintln(out, string(payload))
		return err
	}
	function := g.function
	if function == "" {
		key := "FunctionName"
		if aliases[action] == event.Reconcile {
			key = "ReconcileFunctionName"
		}
		if function, err = functionFromStack(g.stack, key); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(out, invokeCommand(function, payload))
	return err
}
