package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestNewCarriesFieldsAndLambdaLevelNames(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, LevelTrace, Fields{Service: "catchup", Version: "v1 abc", FunctionName: "fn", FunctionVersion: "$LATEST", MemorySizeMB: 512})
	log.Log(t.Context(), LevelTrace, "t")
	log.Log(t.Context(), LevelFatal, "f")
	log.Warn("w")
	var levels []string
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		for k, want := range map[string]any{"service": "catchup", "version": "v1 abc", "function_name": "fn", "function_version": "$LATEST", "function_memory_size": 512.0} {
			if m[k] != want {
				t.Errorf("%s = %v, want %v in %s", k, m[k], want, line)
			}
		}
		levels = append(levels, m["level"].(string))
	}
	if want := []string{"TRACE", "FATAL", "WARN"}; len(levels) != 3 || levels[0] != want[0] || levels[1] != want[1] || levels[2] != want[2] {
		t.Fatalf("levels = %v, want %v", levels, want)
	}
}

func TestNewLeavesOutEmptyFields(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, slog.LevelInfo, Fields{Service: "catchup"}).Info("x")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"function_name", "function_version", "function_memory_size", "version"} {
		if _, ok := m[k]; ok {
			t.Errorf("empty field %s written: %s", k, buf.String())
		}
	}
}

func TestLevelFilters(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelWarn, Fields{})
	log.Info("dropped")
	log.Error("kept")
	if bytes.Contains(buf.Bytes(), []byte("dropped")) || !bytes.Contains(buf.Bytes(), []byte("kept")) {
		t.Fatalf("WARN logger wrote %s", buf.String())
	}
}

func TestLevelFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cases := []struct {
		env     map[string]string
		want    slog.Level
		wantErr string
	}{
		{map[string]string{}, slog.LevelInfo, ""},
		{map[string]string{"AWS_LAMBDA_LOG_LEVEL": "warn", "LOG_LEVEL": "DEBUG"}, slog.LevelWarn, ""},
		{map[string]string{"LOG_LEVEL": "debug"}, slog.LevelDebug, ""},
		{map[string]string{"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, LevelTrace, ""},
		{map[string]string{"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, LevelFatal, ""},
		{map[string]string{"LOG_LEVEL": "loud"}, slog.LevelInfo, `LOG_LEVEL: "loud" is not a log level (TRACE, DEBUG, INFO, WARN, ERROR or FATAL)`},
	}
	for _, c := range cases {
		got, _, err := LevelFromEnv(env(c.env))
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%v: err = %v, want %q", c.env, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v: = %v, %v; want %v", c.env, got, err, c.want)
		}
	}
}

func TestColdStart(t *testing.T) {
	var c ColdStart
	if !c.Next() || c.Next() || c.Next() {
		t.Fatal("cold_start must be true once, then false")
	}
}
