package peers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aimemory/catchup/internal/row"
)

// Page is one decoded answer.
//
// Count is len(Rows): the envelope's `count` is type-checked but not
// trusted over the rows actually received. An envelope key this package does
// not know is ignored; a known one of the wrong type fails the page.
type Page struct {
	Rows                    []row.Row
	Count                   int
	Limit                   int // effective limit echoed by the server (the asked one if absent)
	ExcludedForScope        int
	ExcludedForScopePrivate int
	ScopeStatus             string // "" on v0.6
	NextSince               string // "" when absent or null
	UpdatedSince            string
}

// Examined is the number of rows the server looked at for this page.
func (p *Page) Examined() int {
	return p.Count + p.ExcludedForScope + p.ExcludedForScopePrivate
}

// decodePage reads one answer of GET /api/v1/sync/since from r (the body,
// already under the cap); asked is the limit of the request. It reads r to
// its end, so a stream holding anything after the object is a bad response.
//
// Errors wrap ErrBadResponse (not JSON, not an object, no `memories` array,
// a known envelope key of the wrong type or twice, data after the object,
// or a body over the cap) or ErrUnavailable (any other read error, and a
// body that ends inside the JSON: a short read is treated as a transport
// fault and retried, since a peer that meant to answer sent a whole object
// and a reset connection looks the same from here). A row that breaks
// docs/protocol.md §5 never fails the page: it comes back with Row.Invalid set.
func decodePage(r io.Reader, asked int) (*Page, error) {
	d := &pageDecoder{dec: json.NewDecoder(r), page: &Page{Limit: asked}, seen: map[string]bool{}}
	d.dec.UseNumber()
	if err := d.envelope(); err != nil {
		return nil, decodeError(err)
	}
	d.page.Rows = make([]row.Row, len(d.raws))
	for i, raw := range d.raws {
		d.page.Rows[i] = row.DecodeRow(raw, d.v07)
	}
	d.page.Count = len(d.page.Rows)
	return d.page, nil
}

// decodeError sorts what went wrong by what the caller does next.
func decodeError(err error) error {
	var tooLarge *bodyTooLargeError
	var syntax *json.SyntaxError
	switch {
	case errors.Is(err, ErrBadResponse):
		return err
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: %w", err, ErrBadResponse)
	case errors.As(err, &syntax):
		return fmt.Errorf("not JSON: %v at byte %d: %w", syntax, syntax.Offset, ErrBadResponse)
	}
	return fmt.Errorf("body cut short: %w: %w", err, ErrUnavailable)
}

func badResponse(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrBadResponse)...)
}

// pageDecoder walks the envelope token by token, so that the body is never
// held twice: each row is kept once, as its raw bytes. Rows are validated
// only at the end because the id rule depends on scope_status, which may
// come after `memories` (key order is not guaranteed).
type pageDecoder struct {
	dec  *json.Decoder
	page *Page
	raws []json.RawMessage
	seen map[string]bool
	v07  bool // the envelope has scope_status: a v0.7 or newer peer
}

func (d *pageDecoder) envelope() error {
	tok, err := d.dec.Token()
	if err == io.EOF {
		return badResponse("empty body")
	}
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return badResponse("a JSON %s, want an object", row.TokenKind(tok))
	}
	for d.dec.More() {
		key, err := d.token()
		if err != nil {
			return err
		}
		if err := d.member(key.(string)); err != nil {
			return err
		}
	}
	if _, err := d.token(); err != nil { // the closing '}'
		return err
	}
	if !d.seen["memories"] {
		return badResponse("no memories array")
	}
	return d.end()
}

// end requires the stream to hold nothing after the object but white space.
func (d *pageDecoder) end() error {
	_, err := d.dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return err
	}
	return badResponse("data after the JSON object")
}

// member decodes one key's value into the page.
func (d *pageDecoder) member(key string) error {
	known := true
	var err error
	switch key {
	case "memories":
		err = d.rows()
	case "count":
		_, _, err = d.count(key)
	case "limit":
		var n int
		var ok bool
		if n, ok, err = d.count(key); ok {
			d.page.Limit = n
		}
	case "excluded_for_scope":
		d.page.ExcludedForScope, _, err = d.count(key)
	case "excluded_for_scope_private":
		d.page.ExcludedForScopePrivate, _, err = d.count(key)
	case "scope_status":
		d.page.ScopeStatus, d.v07, err = d.str(key)
	case "next_since":
		d.page.NextSince, _, err = d.str(key)
	case "updated_since":
		d.page.UpdatedSince, _, err = d.str(key)
	default:
		known = false
		var skip json.RawMessage
		err = d.decode(&skip)
	}
	if known && d.seen[key] && err == nil {
		return badResponse("duplicate key %q", key)
	}
	d.seen[key] = true
	return err
}

func (d *pageDecoder) rows() error {
	tok, err := d.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return badResponse("memories: a JSON %s, want an array", row.TokenKind(tok))
	}
	for d.dec.More() {
		var raw json.RawMessage
		if err := d.decode(&raw); err != nil {
			return err
		}
		d.raws = append(d.raws, raw)
	}
	_, err = d.token() // the closing ']'
	return err
}

// count reads a non-negative integer or null; ok reports a number.
func (d *pageDecoder) count(key string) (n int, ok bool, err error) {
	var v any
	if err := d.decode(&v); err != nil {
		return 0, false, err
	}
	switch v := v.(type) {
	case nil:
		return 0, false, nil
	case json.Number:
		n, err := strconv.Atoi(v.String())
		if err != nil || n < 0 {
			return 0, false, badResponse("%s: %s is not a non-negative integer", key, v)
		}
		return n, true, nil
	}
	return 0, false, badResponse("%s: a JSON %s, want a number", key, row.KindOf(v))
}

// str reads a string or null; ok reports a string.
func (d *pageDecoder) str(key string) (s string, ok bool, err error) {
	var v any
	if err := d.decode(&v); err != nil {
		return "", false, err
	}
	switch v := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	}
	return "", false, badResponse("%s: a JSON %s, want a string", key, row.KindOf(v))
}

// token and decode read inside the envelope, where the end of the stream
// means the body was cut short.
func (d *pageDecoder) token() (json.Token, error) {
	tok, err := d.dec.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return tok, err
}

func (d *pageDecoder) decode(v any) error {
	err := d.dec.Decode(v)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
