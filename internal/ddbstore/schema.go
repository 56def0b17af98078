package ddbstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Key attribute names; template.yaml must declare the same.
const (
	// MemoryKey is the partition key (S) of the memories table: the memory id.
	MemoryKey = "id"
	// StatePartitionKey is the partition key (S) of the state table.
	StatePartitionKey = "pk"
	// StateSortKey is the sort key (S) of the state table.
	StateSortKey = "sk"
)

// tableWait bounds how long CreateTables waits for a new table to be active.
const tableWait = 5 * time.Minute

// TableSchemas returns the definitions of the memories and state tables, in
// that order, billed per request. CreateTables uses them, and a test checks
// template.yaml against them.
func TableSchemas(memories, state string) []*dynamodb.CreateTableInput {
	return []*dynamodb.CreateTableInput{
		{
			TableName:            aws.String(memories),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{stringKey(MemoryKey)},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(MemoryKey), KeyType: types.KeyTypeHash}},
		},
		{
			TableName:            aws.String(state),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{stringKey(StatePartitionKey), stringKey(StateSortKey)},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(StatePartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(StateSortKey), KeyType: types.KeyTypeRange},
			},
		},
	}
}

func stringKey(name string) types.AttributeDefinition {
	return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
}

// CreateTables creates both tables with the key schema of template.yaml when
// missing, and waits until they are active. It is idempotent, and fails when
// an existing table has another key schema (every write would be refused).
// It enables TTL on the memories table, so that tombstones expire.
func (s *Store) CreateTables(ctx context.Context) error {
	for _, in := range TableSchemas(s.memories, s.state) {
		if err := s.ensureTable(ctx, in); err != nil {
			return err
		}
	}
	return s.enableTTL(ctx)
}

func (s *Store) ensureTable(ctx context.Context, in *dynamodb.CreateTableInput) error {
	name := aws.ToString(in.TableName)
	out, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
	switch {
	case err == nil:
		if !sameKeys(out.Table.KeySchema, in.KeySchema) {
			return fmt.Errorf("table %s: key schema %s, want %s", name, keysText(out.Table.KeySchema), keysText(in.KeySchema))
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
	case notFound(err):
		if _, err := s.api.CreateTable(ctx, in); err != nil && !inUse(err) {
			return opaque("create table "+name, err)
		}
	default:
		return opaque("describe table "+name, err)
	}
	w := dynamodb.NewTableExistsWaiter(s.api, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, tableWait); err != nil {
		return opaque("wait for table "+name, err)
	}
	return nil
}

func sameKeys(a, b []types.KeySchemaElement) bool {
	return slices.EqualFunc(a, b, func(x, y types.KeySchemaElement) bool {
		return aws.ToString(x.AttributeName) == aws.ToString(y.AttributeName) && x.KeyType == y.KeyType
	})
}

func keysText(ks []types.KeySchemaElement) string {
	s := ""
	for _, k := range ks {
		s += fmt.Sprintf("[%s %s]", aws.ToString(k.AttributeName), k.KeyType)
	}
	return s
}
