package peers

import (
	"errors"
	"fmt"
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
