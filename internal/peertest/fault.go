package peertest

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// Fault changes how the fake answers one request. The zero Fault serves the
// request normally. Fields compose, applied in this order:
//
//  1. Delay: wait first (given up when the client goes away).
//  2. Hangup: close the connection (TCP reset) without answering; nothing else applies.
//  3. Status: answer with this status at once, before auth and without
//     touching the data, with Body, or else a JSON {"error": ...}.
//     Otherwise the request is served normally (auth, query, page).
//  4. Edit: change a 200 page's envelope before it is encoded.
//  5. Body: replace the body whatever it was (with ContentType).
//  6. Oversize: pad the body by that many bytes (inside the JSON object when
//     it is one, so the body stays valid JSON and only its size is wrong).
//  7. Truncate: send the full Content-Length, half the body, then close.
//
// RetryAfter, when set, is sent as the Retry-After header on any answer.
//
// Note that Go's http.Transport silently retries an idempotent request once
// when a reused connection closes before any response byte, so a single
// Hangup may be invisible to a client (it shows up as one extra request).
type Fault struct {
	Delay       time.Duration
	Hangup      bool
	Status      int
	RetryAfter  string
	Body        []byte
	ContentType string // for Body; default application/json
	Edit        func(env map[string]any)
	Oversize    int
	Truncate    bool
}

// IsZero reports whether f changes nothing.
func (f Fault) IsZero() bool {
	return f.Delay == 0 && !f.Hangup && f.Status == 0 && f.RetryAfter == "" &&
		f.Body == nil && f.Edit == nil && f.Oversize == 0 && !f.Truncate
}

// Compose merges faults into one: later non-zero fields win, and Edits all
// run, in order.
func Compose(faults ...Fault) Fault {
	var out Fault
	var edits []func(map[string]any)
	for _, f := range faults {
		out.Delay = max(out.Delay, f.Delay)
		out.Hangup = out.Hangup || f.Hangup
		out.Truncate = out.Truncate || f.Truncate
		out.Oversize = max(out.Oversize, f.Oversize)
		if f.Status != 0 {
			out.Status = f.Status
		}
		if f.RetryAfter != "" {
			out.RetryAfter = f.RetryAfter
		}
		if f.Body != nil {
			out.Body, out.ContentType = f.Body, f.ContentType
		}
		if f.Edit != nil {
			edits = append(edits, f.Edit)
		}
	}
	if len(edits) > 0 {
		out.Edit = func(env map[string]any) {
			for _, e := range edits {
				e(env)
			}
		}
	}
	return out
}

// Status answers code with a JSON error body.
func Status(code int) Fault { return Fault{Status: code} }

// RateLimited answers 429 with a Retry-After header (seconds or an HTTP date).
func RateLimited(retryAfter string) Fault {
	return Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter}
}

// Slow delays the answer by d.
func Slow(d time.Duration) Fault { return Fault{Delay: d} }

// Hangup closes the connection without an answer.
func Hangup() Fault { return Fault{Hangup: true} }

// Truncated sends half of the body, then closes the connection.
func Truncated() Fault { return Fault{Truncate: true} }

// Oversized pads the body by n bytes of valid JSON.
func Oversized(n int) Fault { return Fault{Oversize: n} }

// NotJSON answers 200 with an HTML page, as a misrouted proxy would.
func NotJSON() Fault {
	return Fault{Body: []byte("<html><body><h1>Welcome</h1></body></html>\n"), ContentType: "text/html"}
}

// SetField sets one envelope key (nil for JSON null), e.g.
// SetField("next_since", "9999-12-31T23:59:59Z").
func SetField(key string, v any) Fault {
	return Fault{Edit: func(env map[string]any) { env[key] = v }}
}

// DropField removes one envelope key, e.g. DropField("memories").
func DropField(key string) Fault {
	return Fault{Edit: func(env map[string]any) { delete(env, key) }}
}

// WrongTypes gives the envelope's memories and count the wrong JSON types.
func WrongTypes() Fault {
	return Fault{Edit: func(env map[string]any) {
		env["memories"] = map[string]any{"oops": env["memories"]}
		env["count"] = "many"
	}}
}

// EditRows rewrites the page's rows (and count to match), e.g. to duplicate
// or reorder them.
func EditRows(fn func([]json.RawMessage) []json.RawMessage) Fault {
	return Fault{Edit: func(env map[string]any) {
		rows, ok := env["memories"].([]json.RawMessage)
		if !ok {
			return
		}
		rows = fn(slices.Clone(rows))
		env["memories"], env["count"] = rows, len(rows)
	}}
}

// DuplicateRows serves every row of the page twice.
func DuplicateRows() Fault {
	return EditRows(func(r []json.RawMessage) []json.RawMessage { return append(r, r...) })
}

// ReverseRows serves the page's rows in reverse order.
func ReverseRows() Fault {
	return EditRows(func(r []json.RawMessage) []json.RawMessage { slices.Reverse(r); return r })
}
