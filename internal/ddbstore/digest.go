package ddbstore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"slices"

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
func digest(item map[string]types.AttributeValue) string {
	h := sha256.New()
	encodeMap(h, item)
	return hex.EncodeToString(h.Sum(nil))
}

func encodeAttr(h hash.Hash, av types.AttributeValue) {
	switch x := av.(type) {
	case *types.AttributeValueMemberS:
		encodeString(h, 's', x.Value)
	case *types.AttributeValueMemberN:
		encodeString(h, 'n', x.Value)
	case *types.AttributeValueMemberBOOL:
		if x.Value {
			h.Write([]byte{'t'})
		} else {
			h.Write([]byte{'f'})
		}
	case *types.AttributeValueMemberNULL:
		h.Write([]byte{'z'})
	case *types.AttributeValueMemberM:
		encodeMap(h, x.Value)
	case *types.AttributeValueMemberL:
		encodeLen(h, 'l', len(x.Value))
		for _, v := range x.Value {
			encodeAttr(h, v)
		}
	default:
		// toAttr produces none of the other types.
		h.Write([]byte{'?'})
	}
}

func encodeMap(h hash.Hash, m map[string]types.AttributeValue) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	encodeLen(h, 'm', len(keys))
	for _, k := range keys {
		encodeString(h, 'k', k)
		encodeAttr(h, m[k])
	}
}

func encodeString(h hash.Hash, tag byte, s string) {
	encodeLen(h, tag, len(s))
	h.Write([]byte(s))
}

func encodeLen(h hash.Hash, tag byte, n int) {
	var b [1 + binary.MaxVarintLen64]byte
	b[0] = tag
	h.Write(b[:1+binary.PutUvarint(b[1:], uint64(n))])
}
