package faultproxy

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
)

// errorAnswer is an error DynamoDB sends, in its JSON protocol's shape:
// the exception's full type in __type, which the SDK reads to classify it.
type errorAnswer struct {
	status  int
	errType string
	message string
}

// errorAnswers are the faults answered without forwarding. The types and
// messages are the ones DynamoDB sends.
var errorAnswers = map[Fault]errorAnswer{
	ThroughputExceeded: {http.StatusBadRequest, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
		"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."},
	Throttling: {http.StatusBadRequest, "com.amazon.coral.availability#ThrottlingException",
		"Rate of requests exceeds the allowed throughput."},
	InternalError: {http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError",
		"Internal server error"},
	Unavailable: {http.StatusServiceUnavailable, "com.amazon.coral.availability#ServiceUnavailableException",
		"Service Unavailable"},
}

func (a errorAnswer) write(w http.ResponseWriter) {
	body := `{"__type":` + strconv.Quote(a.errType) + `,"message":` + strconv.Quote(a.message) + `}`
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", "faultproxy")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(body))
}

// relay copies the service's answer to the caller.
func relay(w http.ResponseWriter, resp *upstreamResponse) {
	for k, vs := range resp.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// cut sends the status, the headers (with the full Content-Length) and half
// of the body, then resets the connection.
func cut(w http.ResponseWriter, resp *upstreamResponse) {
	conn, buf, ok := hijack(w)
	if !ok {
		return
	}
	defer abort(conn)
	head := "HTTP/1.1 " + strconv.Itoa(resp.status) + " " + http.StatusText(resp.status) + "\r\n"
	_, _ = buf.WriteString(head)
	h := resp.header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_, _ = buf.Write(resp.body[:len(resp.body)/2])
	_ = buf.Flush()
}

// reset closes the caller's connection with a TCP RST and no answer.
func reset(w http.ResponseWriter) {
	if conn, _, ok := hijack(w); ok {
		abort(conn)
	}
}

func hijack(w http.ResponseWriter) (net.Conn, *bufio.Writer, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, false
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, false
	}
	return conn, rw.Writer, true
}

// abort closes conn discarding unsent data, so the peer sees a reset.
func abort(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
