// Command catchupctl builds the operator payloads the catchup function
// accepts (the files of events/, from flags) and prints them, or the
// `aws lambda invoke` command that sends one. It calls nothing itself.
//
//	catchupctl reset -peers alpha -watermark 2026-05-01T00:00:00Z -reason "peer restored a backup"
//	catchupctl -function catchup-CatchupFunction-XYZ registry-put -id gamma -url https://gamma.example.net
//	catchupctl identity new -ca-pem local-ca.pem > secret.json
//	catchupctl identity pubkey -secret secret.json -id replica-1
//
// The function checks every payload strictly; catchupctl only saves typing
// JSON by hand. Outside Lambda, `catchup -event FILE` runs a saved payload.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "catchupctl:", err)
		os.Exit(2)
	}
}

// run parses [-function NAME] ACTION [flags] and writes the payload, or the
// invoke command when a function is named.
func run(args []string, out io.Writer) error {
	function := ""
	if len(args) >= 2 && (args[0] == "-function" || args[0] == "--function") {
		function, args = args[1], args[2:]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(out, usage)
		return nil
	}
	if args[0] == "identity" {
		return identity(args[1:], os.Stdin, out, os.Stderr, os.Getenv)
	}
	payload, err := build(args[0], args[1:])
	if err != nil {
		return err
	}
	if function == "" {
		_, err = fmt.Fprintln(out, string(payload))
		return err
	}
	_, err = fmt.Fprintln(out, invokeCommand(function, payload))
	return err
}
