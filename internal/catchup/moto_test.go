package catchup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/aimemory/catchup/internal/awstest"
	"github.com/aimemory/catchup/internal/catchup/replica"
	"github.com/aimemory/catchup/internal/ddbstore"
	"github.com/aimemory/catchup/internal/faultproxy"
	"github.com/aimemory/catchup/internal/row"
	"github.com/aimemory/catchup/internal/watermark"
)

// motoEndpoint is the DynamoDB endpoint of .ci/run's moto.
func motoEndpoint(t *testing.T) string { return awstest.Endpoint(t) }

// dynamoClient talks to endpoint with the SDK's standard retryer, as the
// function does, but with attempts attempts and short backoffs.
func dynamoClient(endpoint string, attempts int) *dynamodb.Client {
	return awstest.DynamoDB(endpoint, attempts)
}

// motoRig is a fresh pair of tables on moto, reached directly and through a
// fault proxy.
type motoRig struct {
	client *dynamodb.Client // straight to moto
	state  string           // the state table's name
	direct *ddbstore.Store  // for setup and for judging, never faulted
	faulty *ddbstore.Store  // through proxy
	proxy  *faultproxy.Proxy
}

// newMotoRig creates the tables (dropped when t ends) and a proxy faulting
// rate of the requests, drawn by seed.
func newMotoRig(t *testing.T, seed uint64, rate float64) *motoRig {
	t.Helper()
	endpoint := motoEndpoint(t)
	client := dynamoClient(endpoint, 8)
	var direct *ddbstore.Store
	mem, state := awstest.FreshTables(t, client, "catchup", func(ctx context.Context, mem, state string) error {
		direct = ddbstore.New(client, mem, state, time.Now)
		return direct.CreateTables(ctx)
	})
	proxy, url := faultproxy.Start(t, faultproxy.Options{Target: endpoint, Seed: seed, Rate: rate})
	return &motoRig{client: client, state: state, direct: direct, faulty: ddbstore.New(dynamoClient(url, 3), mem, state, time.Now), proxy: proxy}
}

// ddbTruth judges the tables by the store's own rules.
type ddbTruth struct{ s *ddbstore.Store }

func (t ddbTruth) done(ctx context.Context, peer string, r row.Row) (bool, error) {
	if r.Invalid == nil {
		would, err := t.s.WouldApply(ctx, memoryOf(r, peer))
		switch {
		case err == nil && !would:
			return true, nil
		case err != nil && !errors.Is(err, replica.ErrUnwritable):
			return false, err
		}
	}
	return t.quarantined(ctx, peer, r)
}

// quarantined reports whether peer's quarantine holds r, byte for byte.
func (t ddbTruth) quarantined(ctx context.Context, peer string, r row.Row) (bool, error) {
	qs, err := t.s.ListQuarantine(ctx, peer)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(r.Raw)
	for _, q := range qs {
		if q.RawSHA256 == hex.EncodeToString(sum[:]) {
			return true, nil
		}
	}
	return false, nil
}

func (t ddbTruth) mark(ctx context.Context, peer string) (watermark.Mark, error) {
	return t.s.Watermark(ctx, peer)
}
