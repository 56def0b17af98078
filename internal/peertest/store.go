package peertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
)

// Row is one memory as the fake peer holds it: its bytes exactly as stored,
// plus the two values the server's SQL looks at.
type Row struct {
	// ID is the row's "id" when it is a JSON string; otherwise the raw JSON
	// text of the id, or of the whole row when it has none, so that even a
	// broken row has a key it is upserted by.
	ID string
	// UpdatedAt is the text the server compares and sorts by: the
	// "updated_at" string, the raw JSON text of a non-string value, or "" when
	// absent (such a row is served only to a request without since).
	UpdatedAt string
	// Raw is the row exactly as it is served.
	Raw json.RawMessage
}

// Field returns the raw JSON of one top-level field, or nil when the row is
// not an object or lacks it.
func (r Row) Field(name string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(r.Raw, &m) != nil {
		return nil
	}
	return m[name]
}

// newRow derives a Row's keys from its bytes. raw must be valid JSON.
func newRow(raw json.RawMessage) Row {
	r := Row{Raw: append(json.RawMessage(nil), raw...)}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		r.ID = string(bytes.TrimSpace(raw))
		return r
	}
	r.ID = textOf(m["id"])
	if r.ID == "" {
		r.ID = string(bytes.TrimSpace(raw))
	}
	r.UpdatedAt = textOf(m["updated_at"])
	return r
}

// textOf is a JSON string's value, or else the value's raw text.
func textOf(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(bytes.TrimSpace(v))
}

// Put stores row (anything json.Marshal accepts, usually a map from Memory),
// replacing any stored row with the same id: like the real peer, the fake
// holds one version per memory, the last one written. It panics when row
// does not marshal, which is a bug in the test.
func (s *Server) Put(row any) {
	raw, err := encode(row)
	if err != nil {
		panic(fmt.Sprintf("peertest: Put: %v", err))
	}
	s.PutRaw(raw)
}

// PutRaw stores raw verbatim, as Put does. raw may be any JSON value: an
// object with wrong types, unknown fields or invalid values, or even not an
// object, and is served byte for byte. It panics when raw is not valid JSON,
// which could not be embedded in a page (use a Fault for a broken body).
func (s *Server) PutRaw(raw json.RawMessage) {
	if !json.Valid(raw) {
		panic(fmt.Sprintf("peertest: PutRaw: invalid JSON %.40q", raw))
	}
	r := newRow(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sorted = nil
	if i, ok := s.index[r.ID]; ok {
		s.rows[i] = r
		return
	}
	s.index[r.ID] = len(s.rows)
	s.rows = append(s.rows, r)
}

// Load stores every row, as Put does, in order.
func (s *Server) Load(rows []map[string]any) {
	for _, r := range rows {
		s.Put(r)
	}
}

// Delete removes the row with the given ID, as if the memory were deleted on
// the peer (deletions never appear in the feed). It reports whether it existed.
func (s *Server) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index[id]
	if !ok {
		return false
	}
	s.sorted = nil
	s.rows = append(s.rows[:i], s.rows[i+1:]...)
	delete(s.index, id)
	for j := i; j < len(s.rows); j++ {
		s.index[s.rows[j].ID] = j
	}
	return true
}

// Rows returns a copy of every stored row, ordered by ID.
func (s *Server) Rows() []Row {
	s.mu.Lock()
	out := append([]Row(nil), s.rows...)
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// examine is the server's SQL, `WHERE updated_at > :since ORDER BY
// updated_at LIMIT :limit`, on TEXT: rows compare byte-wise, and rows with
// equal updated_at come back in an order shuffled by rng, because SQLite
// promises none. since == nil selects every row. The caller holds s.mu.
func (s *Server) examine(since *string, limit int, rng *rand.Rand) []Row {
	sorted := s.byText()
	i := 0
	if since != nil {
		i = sort.Search(len(sorted), func(k int) bool { return sorted[k].UpdatedAt > *since })
	}
	j := min(i+limit, len(sorted))
	if j > i { // take the whole tie group the LIMIT may cut, to shuffle it
		last := sorted[j-1].UpdatedAt
		for j < len(sorted) && sorted[j].UpdatedAt == last {
			j++
		}
	}
	rows := append([]Row(nil), sorted[i:j]...)
	for a := 0; a < len(rows); {
		b := a + 1
		for b < len(rows) && rows[b].UpdatedAt == rows[a].UpdatedAt {
			b++
		}
		group := rows[a:b]
		rng.Shuffle(len(group), func(x, y int) { group[x], group[y] = group[y], group[x] })
		a = b
	}
	return rows[:min(limit, len(rows))]
}

// byText returns the rows sorted by UpdatedAt, sorting again only after a
// change. The caller holds s.mu.
func (s *Server) byText() []Row {
	if s.sorted == nil {
		s.sorted = append(make([]Row, 0, len(s.rows)), s.rows...)
		sort.SliceStable(s.sorted, func(i, j int) bool { return s.sorted[i].UpdatedAt < s.sorted[j].UpdatedAt })
	}
	return s.sorted
}
