package peertest

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/aimemory/catchup/internal/watermark"
)

// V1MaxLimit is a v1 server's default max_page_size (docs/protocol.md §8);
// older servers cut limits at watermark.MaxLimit and default to
// watermark.DefaultLimit, as the client knows them.
const V1MaxLimit = 1000

// query is a decoded, validated /api/v1/sync/since query.
type query struct {
	since *string // nil: absent, a full snapshot
	peer  string
	limit int // effective: defaulted and capped
}

// reject is an answer other than a page: a status and a body that is a JSON
// {"error": msg}, or plain text when plain is set.
type reject struct {
	status int
	msg    string
	plain  bool
}

// parseQuery decodes raw as the real server does: form-decoded (a literal
// '+' is a space), each known key at most once (the server's deserializer
// refuses duplicates), limit a non-negative integer. Those failures are
// plain-text 400s, as the real framework's query extractor answers them. A
// since that is present but not a timestamp, including an empty one, is a
// JSON 400, as the handler answers it.
func parseQuery(vals url.Values, decodeErr error, maxLimit int) (query, *reject) {
	if decodeErr != nil {
		return query{}, plain400("Failed to deserialize query string: %v", decodeErr)
	}
	for _, k := range []string{"since", "peer", "limit"} {
		if len(vals[k]) > 1 {
			return query{}, plain400("Failed to deserialize query string: duplicate field `%s`", k)
		}
	}
	q := query{peer: vals.Get("peer"), limit: watermark.DefaultLimit}
	if v, ok := vals["limit"]; ok {
		n, err := strconv.ParseUint(v[0], 10, 32)
		if err != nil {
			return query{}, plain400("Failed to deserialize query string: limit: invalid digit found in string")
		}
		q.limit = int(min(n, uint64(maxLimit)))
	}
	if v, ok := vals["since"]; ok {
		if _, err := parseStamp(v[0]); err != nil {
			return query{}, &reject{status: 400, msg: fmt.Sprintf("invalid since %q: %v", v[0], err)}
		}
		q.since = &v[0]
	}
	return q, nil
}

func plain400(format string, args ...any) *reject {
	return &reject{status: 400, msg: fmt.Sprintf(format, args...), plain: true}
}
