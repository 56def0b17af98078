package faultproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// upstream is a stand-in for DynamoDB that counts what reached it and
// answers every call with an empty JSON object.
func upstream(t *testing.T) (*atomic.Int64, string) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		io.WriteString(w, `{"padding":"`+strings.Repeat("x", 64)+`"}`)
	}))
	t.Cleanup(ts.Close)
	return &n, ts.URL
}

func post(url string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestEachFault(t *testing.T) {
	cases := []struct {
		fault     Fault
		status    int    // 0: the caller gets an error instead
		body      string // a substring of the answer
		forwarded bool
	}{
		{None, 200, `"padding"`, true},
		{ThroughputExceeded, 400, `"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"`, false},
		{Throttling, 400, `"__type":"com.amazon.coral.availability#ThrottlingException"`, false},
		{InternalError, 500, `InternalServerError`, false},
		{Unavailable, 503, `ServiceUnavailableException`, false},
		{ResetBefore, 0, "", false},
		{ResetAfter, 0, "", true},
		{CutAfter, 0, "", true},
	}
	for _, c := range cases {
		t.Run(c.fault.String(), func(t *testing.T) {
			hits, target := upstream(t)
			rate := 1.0
			if c.fault == None {
				rate = 0
			}
			p, url := Start(t, Options{Target: target, Rate: rate, Faults: []Fault{c.fault}})
			status, body, err := post(url + "/")
			if c.status == 0 {
				if err == nil {
					t.Fatalf("got %d %q, want a transport error", status, body)
				}
			} else if err != nil || status != c.status || !strings.Contains(body, c.body) {
				t.Fatalf("got %d %q %v, want %d with %s", status, body, err, c.status, c.body)
			}
			if got := hits.Load() == 1; got != c.forwarded {
				t.Errorf("forwarded = %v, want %v", got, c.forwarded)
			}
			if c.fault != None && p.Counts()[c.fault] != 1 {
				t.Errorf("counts = %v", p.Counts())
			}
		})
	}
}

func TestRateIsSeededFraction(t *testing.T) {
	_, target := upstream(t)
	count := func(seed uint64) int {
		p := New(Options{Target: target, Seed: seed, Rate: 0.25, Faults: []Fault{Throttling}})
		for range 2000 {
			p.pick("PutItem")
		}
		return p.Injected()
	}
	a, b := count(7), count(7)
	if a != b {
		t.Errorf("same seed gave %d and %d faults", a, b)
	}
	if a < 400 || a > 600 {
		t.Errorf("%d faults of 2000 at rate 0.25", a)
	}
}

func TestMatchByOperation(t *testing.T) {
	_, target := upstream(t)
	p := New(Options{Target: target, Rate: 1, Match: func(op string) bool { return op == "PutItem" }})
	if f := p.pick("GetItem"); f != None {
		t.Errorf("GetItem got %v", f)
	}
	if f := p.pick("PutItem"); f == None {
		t.Error("PutItem not faulted at rate 1")
	}
}

// TestSDKReadsTheFaults checks that the SDK sees the proxy's answers as
// DynamoDB's own errors and retries them.
func TestSDKReadsTheFaults(t *testing.T) {
	for _, c := range []struct {
		fault Fault
		code  string
	}{
		{ThroughputExceeded, "ProvisionedThroughputExceededException"},
		{Throttling, "ThrottlingException"},
		{InternalError, "InternalServerError"},
	} {
		t.Run(c.fault.String(), func(t *testing.T) {
			_, target := upstream(t)
			p, url := Start(t, Options{Target: target, Rate: 1, Faults: []Fault{c.fault}})
			client := dynamodb.New(dynamodb.Options{
				Region: "us-east-1", BaseEndpoint: aws.String(url),
				Credentials: aws.AnonymousCredentials{},
				Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
					o.MaxAttempts, o.RateLimiter, o.MaxBackoff = 3, ratelimit.None, 1
				}),
			})
			_, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{
				TableName: aws.String("t"), Item: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "x"}},
			})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != c.code {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
			if p.Requests() != 3 {
				t.Errorf("%d requests, want 3 (the SDK retries %s)", p.Requests(), c.code)
			}
		})
	}
}
