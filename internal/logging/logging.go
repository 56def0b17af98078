// Package logging builds the function's JSON logger: the keys a Lambda
// Powertools user looks for on every line (service, version, function name,
// version and memory size; cold_start and request_id per invocation), at the
// level AWS_LAMBDA_LOG_LEVEL (or LOG_LEVEL outside Lambda) asks for.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Levels beyond slog's four, as Lambda's log-level setting names them.
const (
	LevelTrace = slog.LevelDebug - 4
	LevelFatal = slog.LevelError + 4
)

// Fields are the attributes every line carries. Empty ones are left out.
type Fields struct {
	Service         string // "catchup"
	Version         string // buildinfo.Info.Short()
	FunctionName    string // lambdacontext.FunctionName
	FunctionVersion string // lambdacontext.FunctionVersion
	MemorySizeMB    int    // lambdacontext.MemoryLimitInMB
}

// New returns a JSON logger writing to w at level, with the fields on every
// line. Level names are Lambda's (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) so
// that Lambda's own log-level filter reads them the same way.
func New(w io.Writer, level slog.Level, f Fields) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: levelNames})
	var attrs []any
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, k, v)
		}
	}
	add("service", f.Service)
	add("version", f.Version)
	add("function_name", f.FunctionName)
	add("function_version", f.FunctionVersion)
	if f.MemorySizeMB > 0 {
		attrs = append(attrs, "function_memory_size", f.MemorySizeMB)
	}
	return slog.New(h).With(attrs...)
}

// levelNames writes the level as Lambda names it (TRACE and FATAL too).
func levelNames(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 || a.Key != slog.LevelKey {
		return a
	}
	lv, ok := a.Value.Any().(slog.Level)
	if !ok {
		return a
	}
	return slog.String(slog.LevelKey, levelName(lv))
}

func levelName(lv slog.Level) string {
	switch {
	case lv < slog.LevelDebug:
		return "TRACE"
	case lv < slog.LevelInfo:
		return "DEBUG"
	case lv < slog.LevelWarn:
		return "INFO"
	case lv < slog.LevelError:
		return "WARN"
	case lv < LevelFatal:
		return "ERROR"
	}
	return "FATAL"
}

// ParseLevel reads a level as Lambda's AWS_LAMBDA_LOG_LEVEL spells it (any
// case; WARNING too). The empty string is INFO.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "INFO":
		return slog.LevelInfo, nil
	case "TRACE":
		return LevelTrace, nil
	case "DEBUG":
		return slog.LevelDebug, nil
	case "WARN", "WARNING":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "FATAL":
		return LevelFatal, nil
	}
	return slog.LevelInfo, fmt.Errorf("%q is not a log level (TRACE, DEBUG, INFO, WARN, ERROR or FATAL)", s)
}

// LevelFromEnv is the level Lambda's setting asks for (AWS_LAMBDA_LOG_LEVEL,
// set from the function's LoggingConfig), else LOG_LEVEL, else INFO. The
// returned name is the variable that set it, for an error message.
func LevelFromEnv(lookup func(string) (string, bool)) (slog.Level, string, error) {
	for _, name := range []string{"AWS_LAMBDA_LOG_LEVEL", "LOG_LEVEL"} {
		if v, ok := lookup(name); ok && v != "" {
			lv, err := ParseLevel(v)
			if err != nil {
				return slog.LevelInfo, name, fmt.Errorf("%s: %w", name, err)
			}
			return lv, name, nil
		}
	}
	return slog.LevelInfo, "", nil
}

// ColdStart hands out the cold_start attribute: true for the first
// invocation of an execution environment, false after. Not safe for
// concurrent use (Lambda serves one invocation at a time per environment).
type ColdStart struct{ served bool }

// Next returns the value for this invocation and records that one was served.
func (c *ColdStart) Next() bool {
	first := !c.served
	c.served = true
	return first
}
