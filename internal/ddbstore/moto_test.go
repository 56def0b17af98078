package ddbstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// testClient returns a DynamoDB client for the endpoint in
// AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL (moto in .ci/run). Without
// one the test is skipped on a laptop, and fails under CI=true.
func testClient(t *testing.T) *dynamodb.Client {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but neither AWS_ENDPOINT_URL_DYNAMODB nor AWS_ENDPOINT_URL is set: start moto")
		}
		t.Skip("no DynamoDB endpoint: set AWS_ENDPOINT_URL to a moto server")
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "us-east-1"
	}
	return dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
	})
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// testStore creates two tables of its own, dropped when the test ends.
func testStore(t *testing.T) (*Store, *clock) {
	t.Helper()
	client := testClient(t)
	var b [6]byte
	rand.Read(b[:])
	prefix := "ddbstore-" + hex.EncodeToString(b[:])
	mem, state := prefix+"-memories", prefix+"-state"
	c := &clock{t: t0}
	s := New(client, mem, state, c.now)
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
