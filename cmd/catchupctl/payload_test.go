package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Each operator file of events/ is what catchupctl builds from flags: the
// handler's tests invoke those files, so this holds the CLI to the handler.
func TestPayloadsAreTheEventFiles(t *testing.T) {
	for file, args := range map[string][]string{
		"run-peers.json":         {"run", "-peers", "alpha"},
		"dry-run.json":           {"dry-run"},
		"backfill.json":          {"backfill", "-peers", "alpha", "-from", "2026-05-01T00:00:00Z", "-to", "2026-05-02T00:00:00Z"},
		"reset-watermark.json":   {"reset", "-peers", "alpha", "-watermark", "2026-05-01T00:00:00Z", "-reason", "re-pull May after the peer restored a backup"},
		"list-quarantine.json":   {"list-quarantine", "-peers", "alpha", "-limit", "100"},
		"replay-quarantine.json": {"replay", "-peers", "alpha"},
		"registry-put.json":      {"registry-put", "-id", "gamma", "-url", "https://gamma.example.net", "-secret-id", "catchup/gamma"},
		"registry-list.json":     {"registry-list"},
		"registry-delete.json":   {"registry-delete", "-peers", "gamma"},
		"reconcile.json":         {"reconcile"},
	} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "events", file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := build(args[0], args[1:])
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if diff := cmp.Diff(decode(t, raw), decode(t, got)); diff != "" {
			t.Errorf("catchupctl %s vs events/%s (-file +built):\n%s", strings.Join(args, " "), file, diff)
		}
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

func TestPayloadOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"reset", "-peers", "a,b", "-watermark", ""}, `{"action":"reset_watermark","peers":["a","b"],"watermark":""}`},
		{[]string{"replay", "-peers", "a", "-dry-run"}, `{"action":"replay_quarantine","peers":["a"],"dry_run":true}`},
		{[]string{"registry-put", "-id", "d", "-url", "https://d.example.net", "-disabled"}, `{"action":"registry_put","peer":{"id":"d","url":"https://d.example.net"},"disabled":true}`},
		{[]string{"dry-run", "-peers", "a"}, `{"action":"run","peers":["a"],"dry_run":true}`},
	} {
		got, err := build(tc.args[0], tc.args[1:])
		if err != nil || string(got) != tc.want {
			t.Errorf("%v: %s, %v; want %s", tc.args, got, err, tc.want)
		}
	}
}

func TestPayloadMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"reset", "-peers", "a"}, "-watermark is required"},
		{[]string{"backfill", "-from", "2026-05-01T00:00:00Z"}, "-peers is required"},
		{[]string{"registry-put", "-id", "x"}, "-id and -url are required"},
		{[]string{"registry-put", "-id", "x", "-url", "https://x", "-peers", "y"}, "-peers is not used"},
		{[]string{"run", "-dryrun"}, "flag provided but not defined: -dryrun"},
		{[]string{"run", "alpha"}, `unexpected argument "alpha"`},
		{[]string{"rerun"}, `unknown action "rerun"`},
	} {
		if _, err := build(tc.args[0], tc.args[1:]); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestInvokeCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-function", "catchup-fn", "reset", "-peers", "a", "-watermark", "", "-reason", "o'brien"}, &out); err != nil {
		t.Fatal(err)
	}
	want := `aws lambda invoke --function-name 'catchup-fn' --cli-binary-format raw-in-base64-out --payload '{"action":"reset_watermark","peers":["a"],"reason":"o'\''brien","watermark":""}' /dev/stdout` + "\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
