package peers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aimemory/catchup/internal/jsonany"
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

// DecodeRows decodes every row now (row.Row.Decode), for a reader of the
// whole page; the pass decodes each row as it writes it instead.
func (p *Page) DecodeRows() {
	for i := range p.Rows {
		p.Rows[i].Decode()
	}
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
// docs/protocol.md §5 never fails the page: it comes back with Row.Invalid set
// once decoded (rows may come back row.Scanned: Row.Decode, Page.DecodeRows).
func decodePage(r io.Reader, asked int) (*Page, error) {
	body, err := readBody(r)
	if err == nil {
		if page, ok := decodeBody(body, asked); ok {
			return page, checkExamined(page)
		}
	}
	// The stream decoder sees the same bytes, then the same read error: it
	// names what is wrong exactly as when it read the body itself.
	return decodeStream(io.MultiReader(bytes.NewReader(body), stickyError{err}), asked)
}

// readBody reads r to its end, in a buffer of the size r says it holds
// when it does (a body's Content-Length), and returns what it read with
// the read error that ended it (nil at EOF).
func readBody(r io.Reader) ([]byte, error) {
	size := 64 << 10
	if h, ok := r.(interface{ SizeHint() int64 }); ok && h.SizeHint() >= 0 {
		size = int(h.SizeHint()) + 1 // one more, to read the EOF into
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, err
		}
	}
}

// stickyError is a reader that fails every read with err, io.EOF when nil.
type stickyError struct{ err error }

func (s stickyError) Read([]byte) (int, error) {
	if s.err == nil {
		return 0, io.EOF
	}
	return 0, s.err
}

// decodeBody decodes a whole body in one pass (jsonany) when it is a page
// the stream decoder accepts, to the same page: nearly every body. On
// anything else it reports false, and decodePage hands the body to
// decodeStream, which names what is wrong (TestBodyDecoderAgreesWithStream,
// FuzzDecodePage).
//
// A row that is an object is checked and its id and updated_at read, the
// rest left to Row.Decode (row.Scanned): the pass decodes a row when it
// writes it, and a page in flight holds its body, not a map a row.
func decodeBody(body []byte, asked int) (*Page, bool) {
	type elem struct {
		object bool
		v      any       // the element when it is not an object
		ids    [2]string // its id and updated_at when it is
		start  int
		end    int
	}
	d := jsonany.NewDecoder(body)
	page := &Page{Limit: asked}
	var elems []elem
	var seen uint
	v07 := false
	ok := d.Members(func(key string) bool {
		bit, known := envelopeKeys[key]
		if known && seen&bit != 0 {
			return false // twice: decodeStream says so
		}
		seen |= bit
		if key == "memories" {
			return d.Elements(func() bool {
				e := elem{start: d.Offset()}
				ok := false
				if e.object = d.Peek() == '{'; e.object {
					ok = d.Strings(rowIdentity[:], e.ids[:])
				} else {
					e.v, ok = d.Value()
				}
				e.end = d.Offset()
				elems = append(elems, e)
				return ok
			})
		}
		v, ok := d.Value()
		if !ok {
			return false
		}
		_, err := envelopeScalar(page, key, v, &v07)
		return err == nil
	})
	if !ok || seen&envelopeKeys["memories"] == 0 || !d.End() {
		return nil, false
	}
	page.Rows = make([]row.Row, len(elems))
	for i, e := range elems {
		raw := json.RawMessage(body[e.start:e.end:e.end])
		if e.object {
			page.Rows[i] = row.Scanned(raw, e.ids[0], e.ids[1], v07)
		} else {
			page.Rows[i] = row.DecodeDecoded(raw, e.v, v07)
		}
	}
	page.Count = len(page.Rows)
	return page, true
}

// rowIdentity are the members of a row a page reads before the row is
// decoded: what the watermark rules need of every row.
var rowIdentity = [2]string{"id", "updated_at"}

// envelopeKeys are the envelope's known keys, each a bit: a known key
// given twice fails the page.
var envelopeKeys = map[string]uint{
	"memories": 1 << 0, "count": 1 << 1, "limit": 1 << 2, "excluded_for_scope": 1 << 3,
	"excluded_for_scope_private": 1 << 4, "scope_status": 1 << 5, "next_since": 1 << 6, "updated_since": 1 << 7,
}

// decodeStream is decodePage with encoding/json reading r as it comes: the
// decoder of record for a body decodeBody does not take, which names what
// is wrong with it.
func decodeStream(r io.Reader, asked int) (*Page, error) {
	rec := &recorder{r: r}
	d := &pageDecoder{dec: json.NewDecoder(rec), page: &Page{Limit: asked}, seen: map[string]bool{}}
	d.dec.UseNumber()
	if err := d.envelope(); err != nil {
		return nil, decodeError(err)
	}
	d.page.Rows = make([]row.Row, len(d.elems))
	for i, e := range d.elems {
		// The body's final buffer, read whole: each Raw is its bytes, capped.
		raw := bytes.TrimLeft(rec.buf[e.start:e.end:e.end], " \t\r\n,")
		d.page.Rows[i] = row.DecodeDecoded(raw, e.v, d.v07)
	}
	d.page.Count = len(d.page.Rows)
	if err := checkExamined(d.page); err != nil {
		return nil, err
	}
	return d.page, nil
}

// checkExamined refuses counts no server can send: the server cuts rows
// after its LIMIT, so the rows it examined (returned plus excluded) are at
// most the echoed limit. Without this, excluded counts whose sum overflows
// an int would make a full page look not full, and docs/protocol.md §4 rule 4
// would then advance past a tie group the LIMIT cut. Each term is compared
// with what is left of the limit, so nothing here can overflow.
func checkExamined(p *Page) error {
	if p.Limit < 0 {
		return nil // no echoed limit and none asked: nothing to bound by
	}
	left := max(p.Limit-p.Count, 0) // more rows than the limit is judged by the rules, not here
	if p.ExcludedForScope > left || p.ExcludedForScopePrivate > left-p.ExcludedForScope {
		return badResponse("excluded_for_scope %d + excluded_for_scope_private %d + %d rows exceed the limit %d",
			p.ExcludedForScope, p.ExcludedForScopePrivate, p.Count, p.Limit)
	}
	return nil
}

// decodeError sorts what went wrong by what the caller does next.
func decodeError(err error) error {
	var tooLarge *bodyTooLargeError
	var syntax *json.SyntaxError
	switch {
	case errors.Is(err, ErrBadResponse):
		return err
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: %w: %w", err, ErrTooLarge, ErrBadResponse)
	case errors.As(err, &syntax):
		return fmt.Errorf("not JSON: %v at byte %d: %w", syntax, syntax.Offset, ErrBadResponse)
	}
	return fmt.Errorf("body cut short: %w: %w", err, ErrUnavailable)
}

func badResponse(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrBadResponse)...)
}

// pageDecoder walks the envelope token by token. Each row is decoded once,
// by the page's decoder, and its raw bytes are where it lies in the body the
// recorder kept: the body is held once, and each row scanned once by
// encoding/json. Rows are validated only at the end because the id rule
// depends on scope_status, which may come after `memories` (key order is not
// guaranteed).
type pageDecoder struct {
	dec   *json.Decoder
	page  *Page
	elems []decodedRow
	seen  map[string]bool
	v07   bool // the envelope has scope_status: a v0.7 or newer peer
}

// decodedRow is one element of `memories`: its value, and its bytes as the
// offsets of the body between the end of what came before it and its end
// (white space and a comma at most, trimmed once the body is read).
type decodedRow struct {
	v          any
	start, end int64
}

// recorder keeps every byte read through it.
type recorder struct {
	r   io.Reader
	buf []byte
}

func (c *recorder) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
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
	if key == "memories" {
		err = d.rows()
	} else {
		var v any
		if err = d.decode(&v); err == nil {
			known, err = envelopeScalar(d.page, key, v, &d.v07)
		}
	}
	if known && d.seen[key] && err == nil {
		return badResponse("duplicate key %q", key)
	}
	d.seen[key] = true
	return err
}

// envelopeScalar sets page's field for the envelope member key, v being
// its decoded value: every known key but memories (the rows). known is
// false for a key the page does not know, which is ignored; v07 is set
// when key is a scope_status of string type (a v0.7 or newer peer). Both
// decoders take members through it, so they cannot read one differently.
func envelopeScalar(page *Page, key string, v any, v07 *bool) (known bool, err error) {
	switch key {
	case "count":
		_, _, err = countOf(key, v)
	case "limit":
		var n int
		var ok bool
		if n, ok, err = countOf(key, v); ok {
			page.Limit = n
		}
	case "excluded_for_scope":
		page.ExcludedForScope, _, err = countOf(key, v)
	case "excluded_for_scope_private":
		page.ExcludedForScopePrivate, _, err = countOf(key, v)
	case "scope_status":
		page.ScopeStatus, *v07, err = stringOf(key, v)
	case "next_since":
		page.NextSince, _, err = stringOf(key, v)
	case "updated_since":
		page.UpdatedSince, _, err = stringOf(key, v)
	default:
		return false, nil
	}
	return true, err
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
		start := d.dec.InputOffset()
		var v any
		if err := d.decode(&v); err != nil {
			return err
		}
		d.elems = append(d.elems, decodedRow{v: v, start: start, end: d.dec.InputOffset()})
	}
	_, err = d.token() // the closing ']'
	return err
}

// countOf is the envelope's count v of key: a non-negative integer or
// null; ok reports a number.
func countOf(key string, v any) (n int, ok bool, err error) {
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

// stringOf is the envelope's string v of key, or null; ok reports a string.
func stringOf(key string, v any) (s string, ok bool, err error) {
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
