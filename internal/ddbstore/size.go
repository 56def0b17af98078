package ddbstore

import "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

// MaxItemBytes is DynamoDB's limit on the size of one item (400 KB).
const MaxItemBytes = 400 * 1024

// attrSize is a lower bound of the size DynamoDB charges for a value,
// following its published rules (strings by UTF-8 length, 1 byte for a
// boolean or null, 3 bytes plus 1 per element for a map or list); an item's
// is the sum of its names' lengths and its values' sizes, which memoryItem
// adds up as it builds the item. Being a lower bound, it never refuses an
// item DynamoDB would take; an item it lets through that is still too large
// is refused by DynamoDB itself.
func attrSize(av types.AttributeValue) int {
	switch x := av.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberM:
		n := 3
		for k, v := range x.Value {
			n += len(k) + 1 + attrSize(v)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, v := range x.Value {
			n += 1 + attrSize(v)
		}
		return n
	}
	return 1 // numbers take at least a byte, as do BOOL and NULL
}
