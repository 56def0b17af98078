package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aimemory/catchup/internal/peers"
)

const identityUsage = `usage:
  catchupctl identity new [-api-key KEY] [-ca-pem FILE] > secret.json
      prints a peer secret holding a new Ed25519 signing_key (and api_key,
      ca_pem when given) to store in Secrets Manager; nothing else sees it
  catchupctl identity pubkey [-secret FILE|-] [-id LOCAL_AGENT_ID] [-dir DIR]
      reads a peer secret (stdin by default), writes DIR/<id>.pub (the 32
      raw bytes a peer enrolls) and prints its path and the URL-safe base64
      without padding that the peer's identity export prints

See docs/operations.md, "Enrolling with a v1 peer".
`

// identity runs `catchupctl identity ...`. The secret goes to out only
// (never to errOut); pubkey prints public data only.
func identity(args []string, in io.Reader, out, errOut io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(out, identityUsage)
		return nil
	}
	fs := flag.NewFlagSet("identity "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	switch args[0] {
	case "new":
		apiKey := fs.String("api-key", "", "api_key to put in the secret")
		caFile := fs.String("ca-pem", "", "PEM file of the peer's CA to put in the secret as ca_pem")
		if err := parseAll(fs, args[1:]); err != nil {
			return err
		}
		return newIdentity(*apiKey, *caFile, out, errOut)
	case "pubkey":
		secret := fs.String("secret", "-", "file holding the peer secret JSON, - for stdin")
		id := fs.String("id", getenv("LOCAL_AGENT_ID"), "our id on the peer (LOCAL_AGENT_ID)")
		dir := fs.String("dir", ".", "directory to write <id>.pub in")
		if err := parseAll(fs, args[1:]); err != nil {
			return err
		}
		return pubkey(*secret, *id, *dir, in, out)
	}
	return fmt.Errorf("identity %q: want new or pubkey", args[0])
}

func parseAll(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s: %w", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func newIdentity(apiKey, caFile string, out, errOut io.Writer) error {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return fmt.Errorf("identity new: %w", err)
	}
	secret := map[string]string{"signing_key": base64.StdEncoding.EncodeToString(seed)}
	if apiKey != "" {
		secret["api_key"] = apiKey
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return fmt.Errorf("-ca-pem: %w", err)
		}
		secret["ca_pem"] = string(pem)
	}
	b, err := json.Marshal(secret)
	if err != nil {
		return err
	}
	if _, err := peers.ParseSecret(b); err != nil { // a bad -ca-pem fails here, not in the function
		return fmt.Errorf("identity new: %w", err)
	}
	if _, err := fmt.Fprintln(out, string(b)); err != nil {
		return err
	}
	fmt.Fprintln(errOut, "catchupctl: store this JSON as the peer's secret (it is printed once, nowhere else), then run `catchupctl identity pubkey` on it")
	return nil
}

func pubkey(secretFile, id, dir string, in io.Reader, out io.Writer) error {
	if id == "" {
		return errors.New("identity pubkey: -id: empty; give our id on the peer (LOCAL_AGENT_ID)")
	}
	if err := (&peers.Peer{ID: id, URL: "https://x"}).Validate(); err != nil {
		return fmt.Errorf("identity pubkey: -id: %w", err)
	}
	var raw []byte
	var err error
	if secretFile == "-" {
		raw, err = io.ReadAll(io.LimitReader(in, 1<<20))
	} else {
		raw, err = os.ReadFile(secretFile)
	}
	if err != nil {
		return fmt.Errorf("identity pubkey: read secret: %w", err)
	}
	creds, err := peers.ParseSecret(raw)
	if err != nil {
		return fmt.Errorf("identity pubkey: %w", err)
	}
	if creds.SigningKey == nil {
		return errors.New("identity pubkey: the secret has no signing_key; make one with `catchupctl identity new`")
	}
	pub := creds.SigningKey.Public().(ed25519.PublicKey)
	path := filepath.Join(dir, id+".pub")
	if err := os.WriteFile(path, pub, 0o644); err != nil {
		return fmt.Errorf("identity pubkey: %w", err)
	}
	_, err = fmt.Fprintf(out, "wrote %s (%d bytes): copy it to the peer's <key_dir>/%s.pub\n%s\n",
		path, len(pub), id, base64.RawURLEncoding.EncodeToString(pub))
	return err
}
