package peertest

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
)

// answer is a response about to be written.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// rejectAnswer renders a reject as the real server would.
func rejectAnswer(r *reject) answer {
	if r.plain {
		return answer{r.status, "text/plain; charset=utf-8", []byte(r.msg)}
	}
	return jsonAnswer(r.status, map[string]string{"error": r.msg})
}

// jsonAnswer encodes v as serde_json would (no HTML escaping); v is always
// one of the fake's own values, so an encoding error is a bug in a test's
// Edit and is served as a 500.
func jsonAnswer(status int, v any) answer {
	b, err := encode(v)
	if err != nil {
		return answer{500, "text/plain; charset=utf-8", []byte("peertest: encode: " + err.Error())}
	}
	return answer{status, "application/json", b}
}

// pageAnswer encodes a page's envelope with its rows spliced in byte for
// byte: encoding/json would compact them and escape HTML in them.
func pageAnswer(env map[string]any) answer {
	rows, ok := env["memories"].([]json.RawMessage)
	if !ok {
		return jsonAnswer(http.StatusOK, env)
	}
	const mark = `"\u0000peertest-memories\u0000"` // how encode writes the placeholder
	env["memories"] = "\x00peertest-memories\x00"
	a := jsonAnswer(http.StatusOK, env)
	env["memories"] = rows
	list := []byte{'['}
	for i, r := range rows {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, r...)
	}
	a.body = bytes.Replace(a.body, []byte(mark), append(list, ']'), 1)
	return a
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// write sends a, applying f's Oversize, Truncate and RetryAfter.
func write(w http.ResponseWriter, a answer, f Fault) {
	head, pad, tail := a.body, 0, []byte(nil)
	if f.Oversize > 0 {
		head, pad, tail = padded(a.body, f.Oversize)
	}
	total := len(head) + pad + len(tail)
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Content-Length", strconv.Itoa(total))
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	w.WriteHeader(a.status)
	budget := total
	if f.Truncate {
		budget = total / 2
	}
	budget = put(w, head, budget)
	for chunk := bytes.Repeat([]byte{'x'}, min(pad, 32<<10)); pad > 0 && budget > 0; {
		n := min(pad, len(chunk))
		budget = put(w, chunk[:n], budget)
		pad -= n
	}
	put(w, tail, budget)
	if f.Truncate {
		hangup(w, false)
	}
}

// put writes at most budget bytes of b and returns the budget left; a failed
// write (the client left) leaves none.
func put(w http.ResponseWriter, b []byte, budget int) int {
	if budget <= 0 {
		return 0
	}
	b = b[:min(len(b), budget)]
	if _, err := w.Write(b); err != nil {
		return 0
	}
	return budget - len(b)
}

// padded splits body so that pad bytes of 'x' between head and tail keep a
// JSON object valid: {"x_padding":"xxx…", …}. Any other body is padded at
// the end with the x's outside.
func padded(body []byte, n int) (head []byte, pad int, tail []byte) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) < 2 || trimmed[0] != '{' {
		return body, n, nil
	}
	rest := bytes.TrimSpace(trimmed[1:])
	sep := `",`
	if rest[0] == '}' {
		sep = `"`
	}
	return []byte(`{"x_padding":"`), n, append([]byte(sep), rest...)
}

// hangup closes the connection: after flushing what was written (a
// truncated body), or with a TCP RST before any answer (reset).
func hangup(w http.ResponseWriter, reset bool) {
	rc := http.NewResponseController(w)
	if !reset {
		_ = rc.Flush() // Hijack would drop what is still buffered
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	if tcp, ok := conn.(*net.TCPConn); ok && reset {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
