// Package row is the memory row schema of docs/protocol.md §5: decoding one
// element of `memories` exactly as received, and the field rules a row must
// pass. It is pure (no I/O) and shared by the wire client (internal/peers) and
// quarantine replay (internal/catchup).
package row

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aimemory/catchup/internal/jsonany"
	"github.com/aimemory/catchup/internal/stamp"
)

// Row is one element of `memories`, kept exactly as received.
//
// A key that appears twice in the row object is listed in DuplicateKeys and
// its last value is kept in Fields, as encoding/json and serde_json's map
// do; the row stays valid, since Raw keeps every byte for whoever looks.
type Row struct {
	Raw           json.RawMessage // the row's bytes as the peer sent them
	Fields        map[string]any  // decoded with json.Number; nil when Raw is not an object
	ID            string          // "" when absent or not a string
	UpdatedAt     string          // "" when absent or not a string
	Instant       time.Time       // parsed UpdatedAt; zero when Invalid != nil
	Invalid       error           // non-nil: why the row breaks docs/protocol.md §5 (quarantine it)
	DuplicateKeys []string        // keys that appear more than once in Raw, each listed once

	// scanned: a page decoder has read Raw, found one JSON object and read
	// its ID and UpdatedAt; decoded: Decode has decoded the rest since
	// (strict: the v0.7+ id rule applies).
	scanned, decoded, strict bool
}

// errNotDecoded is a Scanned row's Invalid until Decode: a row used before
// it is decoded is quarantined with this reason, never written without its
// fields.
var errNotDecoded = errors.New("row not decoded before use (a bug of this replicator: Row.Decode)")

// Scanned is a row of a page whose decoder has checked that raw is one JSON
// object and read its id and updated_at (each the last such member's
// string value, "" when it is not a string or absent, as Fields would hold
// it); the rest is decoded by Decode, when the row is about to be written.
// A page in flight then holds its body and not a map a row (the benchmark's
// peak RSS at 10 peers fell from 123 to 65 MiB; CPU per row was unchanged).
// Until Decode its Invalid is set.
func Scanned(raw json.RawMessage, id, updatedAt string, strictID bool) Row {
	return Row{Raw: raw, ID: id, UpdatedAt: updatedAt, Invalid: errNotDecoded, scanned: true, strict: strictID}
}

// Decode completes a Scanned row, to what DecodeRow gives for its bytes; any
// other row it leaves as it is. A row is decoded by one goroutine at a time.
func (r *Row) Decode() {
	if r.scanned && !r.decoded {
		d := decodeRow(r.Raw, r.strict)
		d.scanned, d.decoded, d.strict = true, true, r.strict
		*r = d
	}
}

// Release gives up the fields Decode decoded, once the row is written: it
// is Scanned again, its ID, UpdatedAt and Raw kept, and a page being
// written holds no more decoded rows than there are writers. Its Fields
// map is emptied and decodes another row's fields: nothing may hold it
// after (a store keeps no Fields of a write that has returned: see
// replica.Memory). Any other row it leaves as it is.
func (r *Row) Release() {
	if r.scanned && r.decoded {
		if r.Fields != nil && len(r.Fields) <= maxPooledFields {
			clear(r.Fields)
			fieldMaps.Put(r.Fields)
		}
		*r = Scanned(r.Raw, r.ID, r.UpdatedAt, r.strict)
	}
}

// maxPooledFields bounds the maps kept for reuse: a rare wide row's is
// left to the collector.
const maxPooledFields = 256

// DecodeRow decodes one element of `memories` as Fetch does: strictID
// applies the v0.7+ id rule (the page came from a peer that sends
// scope_status). It never fails: a row that is not an object, is not UTF-8,
// or breaks docs/protocol.md §5 comes back with Invalid set. raw is kept, not
// copied.
func DecodeRow(raw json.RawMessage, strictID bool) Row {
	return decodeRow(raw, strictID)
}

func decodeRow(raw json.RawMessage, strictID bool) Row {
	fields, dups, err := decodeObject(raw)
	return finishRow(raw, fields, dups, err, strictID)
}

// DecodeDecoded is DecodeRow for a row the page's decoder has already
// decoded into v (with UseNumber): raw is decoded again only when v is not
// an object with as many distinct keys as members.
func DecodeDecoded(raw json.RawMessage, v any, strictID bool) Row {
	if fields, ok := v.(map[string]any); ok && topLevelMembers(raw) == len(fields) {
		return finishRow(raw, fields, nil, nil, strictID)
	}
	return decodeRow(raw, strictID)
}

func finishRow(raw json.RawMessage, fields map[string]any, dups []string, err error, strictID bool) Row {
	row := Row{Raw: raw}
	if err != nil {
		row.Invalid = err
		return row
	}
	row.Fields, row.DuplicateKeys = fields, dups
	row.ID, _ = fields["id"].(string)
	row.UpdatedAt, _ = fields["updated_at"].(string)
	if !utf8.Valid(raw) {
		// encoding/json has replaced the bad bytes in Fields with U+FFFD, so
		// what we would store differs from what the peer holds.
		row.Invalid = errors.New("row is not valid UTF-8")
		return row
	}
	if err := ValidateFields(fields, strictID); err != nil {
		row.Invalid = err
		return row
	}
	row.Instant, _ = stamp.Parse(row.UpdatedAt) // ValidateFields checked it parses
	return row
}

// decodeObject decodes a row object. A row whose top-level keys are all
// distinct, nearly every row, is decoded in one call; any other, or one that
// is not a lone JSON object, is decoded member by member (decodeMembers),
// which sees keys that appear twice and names what is wrong.
func decodeObject(raw []byte) (map[string]any, []string, error) {
	if fields, ok := decodeWhole(raw); ok {
		return fields, nil, nil
	}
	return decodeMembers(raw)
}

// decodeWhole decodes raw in one pass (jsonany) when it is one JSON object
// with distinct keys and no string that encoding/json would rewrite.
func decodeWhole(raw []byte) (map[string]any, bool) {
	d := decoders.Get().(*jsonany.Decoder)
	d.Reset(raw)
	into, _ := fieldMaps.Get().(map[string]any)
	fields, distinct, ok := d.ObjectInto(into)
	ok = ok && distinct && d.End()
	d.Reset(nil) // hold no page's body
	decoders.Put(d)
	return fields, ok
}

// fieldMaps are the maps of rows written and given up (Release), for the
// fields of the rows decoded next: a row's map is a quarter of what
// decoding it allocates.
var fieldMaps sync.Pool

// decoders are reused across rows, so that the keys rows share are one
// string each (jsonany interns them) and a row's map starts at the size of
// the last row's: rows are decoded by WRITE_CONCURRENCY writers at once.
var decoders = sync.Pool{New: func() any { return jsonany.NewDecoder(nil) }}

// topLevelMembers counts the members of the JSON object raw (valid JSON):
// the colons at depth 1 outside strings.
func topLevelMembers(raw []byte) int {
	n, depth := 0, 0
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ':' && depth == 1:
			n++
		}
	}
	return n
}

// decodeMembers decodes a row object member by member, so that it can see
// keys that appear twice, which json.Unmarshal silently merges.
func decodeMembers(raw []byte) (map[string]any, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, errors.New("row is not JSON")
	}
	if tok != json.Delim('{') {
		return nil, nil, errors.New("row is a JSON " + TokenKind(tok) + ", want an object")
	}
	fields := make(map[string]any)
	var dups []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, errors.New("row is not JSON")
		}
		key := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, errors.New("row is not JSON")
		}
		if _, dup := fields[key]; dup && !slices.Contains(dups, key) {
			dups = append(dups, key)
		}
		fields[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, errors.New("row is not JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("row has data after the object")
	}
	return fields, dups, nil
}
