package bench

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/aimemory/catchup/internal/sdkconfig"
)

// DynamoClient returns a DynamoDB client for endpoint configured as the
// function's (sdkconfig.Load: the standard retryer with 8 attempts and no
// retry quota, an idle pool of conns connections), so that the harness measures the product's wiring. When
// latency > 0 each request waits that long before it is sent, standing in
// for the network round trip to a real DynamoDB endpoint.
func DynamoClient(ctx context.Context, endpoint string, conns int, latency time.Duration) (*dynamodb.Client, error) {
	cfg, err := sdkconfig.Load(ctx, conns, awsconfig.WithRegion("us-east-1"), awsconfig.WithCredentialsProvider(staticCreds))
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		if latency > 0 {
			o.APIOptions = append(o.APIOptions, addLatency(latency))
		}
	}), nil
}

// addLatency makes every attempt of a request wait d just before it is
// sent. (A middleware, not a wrapped transport: the SDK refuses a custom
// HTTP client when AWS_CA_BUNDLE is set.)
func addLatency(d time.Duration) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("BenchLatency",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
					return middleware.DeserializeOutput{}, middleware.Metadata{}, ctx.Err()
				}
				return next.HandleDeserialize(ctx, in)
			}), middleware.After)
	}
}

// DeleteTables drops tables, ignoring ones already gone, so that dynalite
// gives back their memory between scenarios.
func DeleteTables(ctx context.Context, api *dynamodb.Client, names ...string) {
	for _, n := range names {
		_, _ = api.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(n)})
	}
}

// staticCreds are dynalite's: any key is accepted.
var staticCreds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "bench", SecretAccessKey: "bench", Source: "bench"}, nil
})
