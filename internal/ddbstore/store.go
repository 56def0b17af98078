// Package ddbstore keeps memories, watermarks, quarantined rows, circuit
// breakers and the peer registry in DynamoDB: the table and key layout,
// marshaling, condition expressions and SDK error translation.
//
// Two tables: the memories table holds one item per memory id; the state
// table holds everything else under a partition key `pk` and a sort key `sk`
// (see TableSchemas). Errors are classified by what the caller does next:
// replica.ErrStale, replica.ErrUnwritable, replica.ErrConflict; any other error is worth retrying on a
// later run (the SDK has already retried throttling and 5xx). SDK error types
// never leave this package; context cancellation stays detectable with
// errors.Is.
package ddbstore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// dynamoAPI is the part of the DynamoDB client the store uses;
// *dynamodb.Client satisfies it.
type dynamoAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

var _ dynamoAPI = (*dynamodb.Client)(nil)

// Store is safe for concurrent use.
type Store struct {
	api      dynamoAPI
	memories string
	state    string
	now      func() time.Time
}

// New returns a store over the two tables. now stamps bookkeeping attributes
// (written_at, first_seen, retry times); it never decides which version wins.
func New(api dynamoAPI, memoriesTable, stateTable string, now func() time.Time) *Store {
	return &Store{api: api, memories: memoriesTable, state: stateTable, now: now}
}
