package main

import (
	"context"
	"encoding/json"
	"io"
	"os"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/event"
)

// runLocal runs one invocation outside Lambda and prints its result as one
// JSON object. Exit codes: exitOK; exitFailed when a peer or the action
// failed; exitBadEvent when the -event file is unreadable or not a payload.
func (a *app) runLocal(ctx context.Context, eventFile string, out io.Writer) int {
	raw := json.RawMessage(`{}`)
	if eventFile != "" {
		b, err := os.ReadFile(eventFile)
		if err != nil {
			a.log.Error("bad event", "error", err.Error())
			return exitBadEvent
		}
		if _, err := event.Parse(b); err != nil {
			a.log.Error("bad event", "file", eventFile, "error", err.Error())
			return exitBadEvent
		}
		raw = b
	}
	res, err := a.Handle(ctx, raw)
	if res != nil {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(res); encErr != nil {
			a.log.Error("report not written", "error", encErr.Error())
			return exitFailed
		}
	}
	if err != nil {
		a.log.Error("failed", "error", err.Error())
		return exitFailed
	}
	if rep, ok := res.(*catchup.Report); ok && rep.Failed() > 0 {
		return exitFailed
	}
	return exitOK
}
