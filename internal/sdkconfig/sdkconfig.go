// Package sdkconfig loads the AWS SDK configuration the function runs with,
// so that the benchmarks measure the same wiring: the SDK's standard
// variables (region, endpoints, credentials), a retryer fit for throttling,
// and a connection pool as wide as the requests in flight.
package sdkconfig

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Load returns the configuration for conns requests in flight: 8 attempts
// with backoff up to 5 s and no client-side retry quota (which would turn a
// burst of throttles into hard failures), and conns idle connections kept
// per host. extra options apply after these (a test's region, credentials).
func Load(ctx context.Context, conns int, extra ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = conns * 2
		t.MaxIdleConnsPerHost = conns
	})
	opts := append([]func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(httpClient),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 8
				o.MaxBackoff = 5 * time.Second
				o.RateLimiter = ratelimit.None
			})
		}),
	}, extra...)
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}
