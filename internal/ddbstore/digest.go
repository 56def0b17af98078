package ddbstore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// digest returns the hex SHA-256 of a canonical encoding of an item, so two
// items have equal digests exactly when they hold the same values. It breaks
// ties between versions with equal instants, the same way on every replica
// whatever order the peers are pulled in; changing the encoding changes
// winners, so it is pinned by a test.
//
// Encoding (n = unsigned varint): S 's' n bytes; N 'n' n text; BOOL 't' or
// 'f'; NULL 'z'; L 'l' n(count) elements; M 'm' n(count), then for each key
// in byte order 'k' n key, value.
//
// The encoding is appended to one buffer and hashed once: writing each piece
// to a hash.Hash copied every string and every length to the heap (three
// allocations a field).
func digest(item map[string]types.AttributeValue) string {
	var small [32]member
	return digestMembers(members(small[:0], item), false)
}

// member is one key of a map and its value, sorted by key to be encoded.
type member struct {
	k string
	v types.AttributeValue
}

// members appends m's members to ms.
func members(ms []member, m map[string]types.AttributeValue) []member {
	for k, v := range m {
		ms = append(ms, member{k, v})
	}
	return ms
}

// digestMembers is digest of the map of ms (keys distinct, in any order;
// ms is sorted in place), sorted saying they are in byte order of key.
func digestMembers(ms []member, sorted bool) string {
	if !sorted {
		sortMembers(ms)
	}
	bp := digestBufs.Get().(*[]byte)
	b := encodeSorted((*bp)[:0], ms)
	sum := sha256.Sum256(b)
	if cap(b) <= 64<<10 { // keep no huge buffer alive
		*bp = b
		digestBufs.Put(bp)
	}
	return hex.EncodeToString(sum[:])
}

// digestBufs reuses encoding buffers across rows (the pass digests every
// row it writes, from WRITE_CONCURRENCY goroutines).
var digestBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func encodeAttr(b []byte, av types.AttributeValue) []byte {
	switch x := av.(type) {
	case *types.AttributeValueMemberS:
		return encodeString(b, 's', x.Value)
	case *types.AttributeValueMemberN:
		return encodeString(b, 'n', x.Value)
	case *types.AttributeValueMemberBOOL:
		if x.Value {
			return append(b, 't')
		}
		return append(b, 'f')
	case *types.AttributeValueMemberNULL:
		return append(b, 'z')
	case *types.AttributeValueMemberM:
		return encodeMap(b, x.Value)
	case *types.AttributeValueMemberL:
		b = encodeLen(b, 'l', len(x.Value))
		for _, v := range x.Value {
			b = encodeAttr(b, v)
		}
		return b
	}
	// toAttr produces none of the other types.
	return append(b, '?')
}

func encodeMap(b []byte, m map[string]types.AttributeValue) []byte {
	var small [32]member // most maps: the members stay on the stack
	return encodeMembers(b, members(small[:0], m))
}

// encodeMembers encodes the map of ms, sorting them by key (a sort of
// key-value pairs: no lookup of each key once sorted).
func encodeMembers(b []byte, ms []member) []byte {
	sortMembers(ms)
	return encodeSorted(b, ms)
}

func sortMembers(ms []member) {
	slices.SortFunc(ms, func(x, y member) int { return strings.Compare(x.k, y.k) })
}

// encodeSorted encodes the map of ms, sorted by key.
func encodeSorted(b []byte, ms []member) []byte {
	b = encodeLen(b, 'm', len(ms))
	for _, m := range ms {
		b = encodeString(b, 'k', m.k)
		b = encodeAttr(b, m.v)
	}
	return b
}

func encodeString(b []byte, tag byte, s string) []byte {
	return append(encodeLen(b, tag, len(s)), s...)
}

func encodeLen(b []byte, tag byte, n int) []byte {
	return binary.AppendUvarint(append(b, tag), uint64(n))
}
