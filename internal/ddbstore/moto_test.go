package ddbstore

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aimemory/catchup/internal/awstest"
	"github.com/aimemory/catchup/internal/fakeclock"
)

// testClient returns a DynamoDB client for .ci/run's moto (see awstest).
func testClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	return awstest.DynamoDB(awstest.Endpoint(t), 0)
}

// testStore creates two tables of its own, dropped when the test ends.
func testStore(t *testing.T) (*Store, *fakeclock.Clock) {
	t.Helper()
	client := testClient(t)
	c := fakeclock.New(t0)
	var s *Store
	awstest.FreshTables(t, client, "ddbstore", func(ctx context.Context, mem, state string) error {
		s = New(client, mem, state, c.Now)
		return s.CreateTables(ctx)
	})
	return s, c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
