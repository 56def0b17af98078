// Package awstest points integration tests at the AWS stand-ins that .ci/run
// starts (moto on loopback), through the SDK's standard variables. Without an
// endpoint a test is skipped on a laptop, and fails under CI=true: CI must
// never pass by skipping.
package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Endpoint returns the DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB, else
// AWS_ENDPOINT_URL), skipping or failing the test when there is none.
func Endpoint(t testing.TB) string {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but neither AWS_ENDPOINT_URL_DYNAMODB nor AWS_ENDPOINT_URL is set: start moto (bash .ci/run does)")
		}
		t.Skip("no DynamoDB endpoint: run under bash .ci/run, or set AWS_ENDPOINT_URL to a moto server")
	}
	return endpoint
}

// Region is AWS_REGION, us-east-1 when unset.
func Region() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return "us-east-1"
}

// DynamoDB returns a client for endpoint with test credentials. attempts > 0
// sets the SDK retryer's attempts with short backoffs (so that injected faults
// sometimes outlast the retries); 0 keeps the SDK's default retryer.
func DynamoDB(endpoint string, attempts int) *dynamodb.Client {
	opts := dynamodb.Options{
		Region:       Region(),
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
	if attempts > 0 {
		opts.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts, o.MaxBackoff, o.RateLimiter = attempts, 20*time.Millisecond, ratelimit.None
		})
	}
	return dynamodb.New(opts)
}

// FreshTables names a memories and a state table no other test uses
// (prefix-<random>-memories, -state), has create make them, and drops both
// with client when t ends.
func FreshTables(t testing.TB, client *dynamodb.Client, prefix string, create func(ctx context.Context, memories, state string) error) (memories, state string) {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	base := prefix + "-" + hex.EncodeToString(b[:])
	memories, state = base+"-memories", base+"-state"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.Cleanup(func() {
		for _, name := range []string{memories, state} {
			client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		}
	})
	if err := create(ctx, memories, state); err != nil {
		t.Fatal(err)
	}
	return memories, state
}
