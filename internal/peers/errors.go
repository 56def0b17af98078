package peers

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by Client.Fetch and KeySource, classified by what the
// caller does next.
var (
	// ErrUnavailable: transport error, timeout, short body, 429 or 5xx after
	// retries, or a secret store that is throttling or unreachable; try next run.
	ErrUnavailable = errors.New("peer unavailable")
	// ErrRejected: any other 4xx, a 401 after a fresh key, a redirect, or a
	// secret that is missing, unreadable or malformed; fix config or auth.
	ErrRejected = errors.New("peer rejected the request")
	// ErrBadResponse: body over the cap, not JSON, not an object, no
	// `memories` array, or an envelope field of the wrong type.
	ErrBadResponse = errors.New("bad response from peer")
	// ErrTooLarge: the body exceeded the cap (MAX_RESPONSE_BYTES). It always
	// comes with ErrBadResponse; a caller may ask again for fewer rows.
	ErrTooLarge = errors.New("response body over the cap")
)

// classify wraps err in ErrUnavailable unless it already carries one of the
// package's sentinels, so that errors from a KeySource of unknown make still
// tell the caller what to do next.
func classify(err error) error {
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRejected) || errors.Is(err, ErrBadResponse) {
		return err
	}
	return fmt.Errorf("%w: %w", err, ErrUnavailable)
}

// Finer sentinels: each also matches the class it belongs to (errors.Is
// with ErrRejected or ErrUnavailable holds), so callers that only know the
// three classes keep working.
var (
	// ErrUntrusted: the peer's TLS certificate does not verify (unknown CA,
	// wrong host, expired). A configuration error: never retried.
	ErrUntrusted error = &subError{"peer certificate not trusted", ErrRejected}
	// ErrUnauthorized: a 401 to a request that carried our credentials, after
	// the one key refetch of the run. Each costs the peer a failed key check.
	ErrUnauthorized error = &subError{"peer refused our credentials", ErrRejected}
	// ErrRetryLater: the peer asked (429, 503 Retry-After) for a wait that
	// ends past the caller's deadline; see RetryLaterError.
	ErrRetryLater error = &subError{"peer asked to retry later", ErrUnavailable}
)

type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// RetryLaterError is a 429 or 503 whose Retry-After ends past the caller's
// deadline: At is when the peer said to come back. It wraps ErrRetryLater.
type RetryLaterError struct {
	At  time.Time
	Err error // the answer, with its status
}

func (e *RetryLaterError) Error() string {
	return fmt.Sprintf("%v; the peer asked to retry at %s, past this run's budget", e.Err, e.At.UTC().Format(time.RFC3339))
}

func (e *RetryLaterError) Unwrap() []error { return []error{e.Err, ErrRetryLater} }
