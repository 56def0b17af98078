package ddbstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	var b [6]byte
	rand.Read(b[:])
	prefix := "ddbstore-" + hex.EncodeToString(b[:])
	mem, state := prefix+"-memories", prefix+"-state"
	c := fakeclock.New(t0)
	s := New(client, mem, state, c.Now)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateTables(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, name := range []string{mem, state} {
			client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		}
	})
	return s, c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
