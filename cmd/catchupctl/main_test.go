package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aimemory/catchup/internal/buildinfo"
)

func runOut(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(args, &out)
	return out.String(), err
}

// The payload's action names are canonical; every older name builds the
// same payload.
func TestActionNamesAndAliases(t *testing.T) {
	for canonical, tc := range map[string]struct {
		aliases []string
		flags   []string
	}{
		"reset_watermark":   {[]string{"reset", "reset-watermark"}, []string{"-peers", "a", "-watermark", ""}},
		"replay_quarantine": {[]string{"replay", "replay-quarantine"}, []string{"-peers", "a"}},
		"list_quarantine":   {[]string{"list-quarantine"}, []string{"-peers", "a", "-limit", "3"}},
		"registry_put":      {[]string{"registry-put"}, []string{"-id", "g", "-url", "https://g.example.net"}},
		"registry_list":     {[]string{"registry-list"}, nil},
		"registry_delete":   {[]string{"registry-delete"}, []string{"-peers", "g"}},
	} {
		want, err := build(canonical, tc.flags)
		if err != nil {
			t.Fatalf("%s: %v", canonical, err)
		}
		if !strings.Contains(string(want), `"action":"`+canonical+`"`) {
			t.Errorf("%s built %s", canonical, want)
		}
		for _, a := range tc.aliases {
			if got, err := build(a, tc.flags); err != nil || string(got) != string(want) {
				t.Errorf("alias %s: %s, %v; want %s", a, got, err, want)
			}
		}
	}
}

func TestReconcile(t *testing.T) {
	got, err := runOut(t, "reconcile", "-dry-run", "-max-deletions", "5")
	want := `{"action":"reconcile","dry_run":true,"max_deletions":5}` + "\n"
	if err != nil || got != want {
		t.Errorf("%s, %v; want %s", got, err, want)
	}
	if _, err := runOut(t, "reconcile", "-peers", "a"); err == nil || !strings.Contains(err.Error(), "-peers is refused") {
		t.Errorf("reconcile -peers: %v", err)
	}
	if _, err := runOut(t, "reconcile", "-max-deletions", "-1"); err == nil || !strings.Contains(err.Error(), "-max-deletions: -1 is negative") {
		t.Errorf("negative -max-deletions: %v", err)
	}
}

// Global flags go before or after the action, and action flags before it.
func TestFlagsInAnyOrder(t *testing.T) {
	want, err := runOut(t, "-function", "fn", "reset_watermark", "-peers", "a", "-watermark", "", "-reason", "run")
	if err != nil || !strings.HasPrefix(want, "aws lambda invoke --function-name 'fn'") {
		t.Fatalf("%q, %v", want, err)
	}
	for _, args := range [][]string{
		{"reset_watermark", "-peers", "a", "-watermark", "", "-reason", "run", "-function", "fn"},
		{"reset_watermark", "-peers", "a", "-function=fn", "-watermark", "", "-reason", "run"},
		{"-peers", "a", "-reason", "run", "reset_watermark", "--function", "fn", "-watermark="},
		{"-peers=a", "-dry-run", "replay"}, // a bool flag takes no value: replay is the action
	} {
		got, err := runOut(t, args...)
		if err != nil {
			t.Errorf("%q: %v", args, err)
			continue
		}
		if args[len(args)-1] == "replay" {
			if got != `{"action":"replay_quarantine","peers":["a"],"dry_run":true}`+"\n" {
				t.Errorf("%q: %s", args, got)
			}
			continue
		}
		if got != want {
			t.Errorf("%q:\n%s\nwant\n%s", args, got, want)
		}
	}
	if _, err := runOut(t, "run", "-function"); err == nil || !strings.Contains(err.Error(), "-function needs a value") {
		t.Errorf("-function without a value: %v", err)
	}
	if _, err := runOut(t, "-peers", "a"); err == nil || !strings.Contains(err.Error(), "no action") {
		t.Errorf("flags without an action: %v", err)
	}
}

// What the function refuses is refused before anything is sent.
func TestValidatesLocally(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"reset", "-peers", "a", "-watermark", "yesterday"}, `-watermark: timestamp "yesterday"`},
		{[]string{"reset", "-peers", "a", "-watermark", "2026-02-30T00:00:00Z"}, "-watermark: timestamp"},
		{[]string{"backfill", "-peers", "a", "-from", "2026-05-01"}, "-from: timestamp"},
		{[]string{"backfill", "-peers", "a", "-to", "soon"}, "-to: timestamp"},
		{[]string{"registry_put", "-id", "g", "-url", "http://g.example.net"}, "-url: \"http://g.example.net\" must be https (plain http only for loopback hosts)"},
		{[]string{"registry_put", "-id", "g h", "-url", "https://g.example.net"}, "registry_put: -id: "},
		{[]string{"registry_put", "-id", "g", "-url", "https://g.example.net", "-secret-id", "has space"}, "registry_put: -secret-id: "},
		{[]string{"run", "-peers", "a,b c"}, "-peers: id:"},
		{[]string{"list_quarantine", "-peers", "a", "-limit", "-2"}, "-limit: -2 is negative"},
	} {
		_, err := runOut(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
	for _, args := range [][]string{
		{"registry_put", "-id", "g", "-url", "http://127.0.0.1:8080"},
		{"reset", "-peers", "a", "-watermark", "2026-05-01T00:00:00.5+02:00"},
		{"backfill", "-peers", "a", "-from", "2026-05-01T00:00:00Z"},
	} {
		if _, err := runOut(t, args...); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

// fakeAWS puts an aws on PATH that logs its arguments and answers
// describe-stacks with answer.
func fakeAWS(t *testing.T, answer string) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	answerFile := filepath.Join(dir, "answer.json")
	if err := os.WriteFile(answerFile, []byte(answer), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho \"$@\" > '" + argsFile + "'\ncat '" + answerFile + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

func TestFunctionFromStack(t *testing.T) {
	argsFile := fakeAWS(t, `{"Stacks":[{"StackName":"s","Outputs":[
		{"OutputKey":"FunctionArn","OutputValue":"arn:aws:lambda:eu-west-1:1:function:wrong"},
		{"OutputKey":"FunctionName","OutputValue":"catchup-CatchupFunction-ABC"},
		{"OutputKey":"ReconcileFunctionName","OutputValue":"catchup-ReconcileFunction-DEF"}]}]}`)
	cfg := filepath.Join(t.TempDir(), "samconfig.toml")
	if err := os.WriteFile(cfg, []byte("version = 0.1\n[default.build.parameters]\ncached = true\n[default.deploy.parameters]\nstack_name = \"my-catchup\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := samconfig
	samconfig = cfg
	t.Cleanup(func() { samconfig = old })

	got, err := runOut(t, "run", "-invoke")
	if err != nil || !strings.HasPrefix(got, "aws lambda invoke --function-name 'catchup-CatchupFunction-ABC' ") {
		t.Errorf("-invoke: %q, %v", got, err)
	}
	if args, _ := os.ReadFile(argsFile); !strings.Contains(string(args), "describe-stacks --stack-name my-catchup") {
		t.Errorf("aws called with %q, want the stack of samconfig.toml", args)
	}
	got, err = runOut(t, "reconcile", "-stack", "other")
	if err != nil || !strings.HasPrefix(got, "aws lambda invoke --function-name 'catchup-ReconcileFunction-DEF' ") {
		t.Errorf("reconcile -stack: %q, %v", got, err)
	}
	if args, _ := os.ReadFile(argsFile); !strings.Contains(string(args), "--stack-name other") {
		t.Errorf("aws called with %q, want -stack other", args)
	}
	if got, err := runOut(t, "run", "-function", "named", "-stack", "other"); err != nil || !strings.Contains(got, "'named'") {
		t.Errorf("-function wins over the stack: %q, %v", got, err)
	}

	fakeAWS(t, `{"Stacks":[{"Outputs":[{"OutputKey":"Other","OutputValue":"x"}]}]}`)
	if _, err := runOut(t, "run", "-stack", "s"); err == nil || !strings.Contains(err.Error(), "no output FunctionName") {
		t.Errorf("stack without the output: %v", err)
	}
	samconfig = filepath.Join(t.TempDir(), "none.toml")
	if _, err := runOut(t, "run", "-invoke"); err == nil || !strings.Contains(err.Error(), "give -function NAME or -stack NAME") {
		t.Errorf("no samconfig.toml: %v", err)
	}
}

// The repository's samconfig.toml names the stack sam deploy makes.
func TestSamStackName(t *testing.T) {
	got, err := samStackName(filepath.Join("..", "..", "samconfig.toml"))
	if err != nil || got != "catchup" {
		t.Errorf("%q, %v; want catchup", got, err)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"-version"}, {"run", "-version"}} {
		got, err := runOut(t, args...)
		if err != nil || got != buildinfo.Read().String()+"\n" || !strings.HasPrefix(got, "github.com/aimemory/catchup ") {
			t.Errorf("%q: %q, %v", args, got, err)
		}
	}
}
