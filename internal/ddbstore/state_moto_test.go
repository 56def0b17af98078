package ddbstore

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

func TestQuarantine(t *testing.T) {
	s, c := testStore(t)
	ctx := testContext(t)
	raw := []byte(`{"id":"bad id","updated_at":"2026-06-01T10:00:05Z","priority":11}`)
	sum := sha256.Sum256(raw)
	q := replica.Quarantined{Peer: "p1", RowID: "bad id", UpdatedAt: "2026-06-01T10:00:05Z", Reason: "priority 11 out of 1..10", Raw: raw}
	if err := s.Quarantine(ctx, q); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(time.Hour))
	q.Reason = "priority 11 out of 1..10 (seen again)"
	if err := s.Quarantine(ctx, q); err != nil {
		t.Fatal(err)
	}
	big := []byte(`{"content":"x` + strings.Repeat("é", 200*1024) + `"}`) // 400 KB, cut mid-character
	if err := s.Quarantine(ctx, replica.Quarantined{Peer: "p1", Key: "big", Reason: "content too long", Raw: big}); err != nil {
		t.Fatal(err)
	}
	if err := s.Quarantine(ctx, replica.Quarantined{Peer: "p2", Reason: "other peer", Raw: raw}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListQuarantine(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	bigSum := sha256.Sum256(big)
	want := []replica.Quarantined{
		{Peer: "p1", Key: hex.EncodeToString(sum[:])[:32], RowID: "bad id", UpdatedAt: "2026-06-01T10:00:05Z",
			Reason: q.Reason, Raw: raw, RawSHA256: hex.EncodeToString(sum[:]), RawBytes: len(raw),
			FirstSeen: t0, LastSeen: t0.Add(time.Hour)},
		{Peer: "p1", Key: "big", Reason: "content too long", Raw: big[:350*1024-1], Truncated: true,
			RawSHA256: hex.EncodeToString(bigSum[:]), RawBytes: len(big), FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour)},
	}
	if want[0].Key > want[1].Key {
		want[0], want[1] = want[1], want[0]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListQuarantine (-want +got):\n%s", diff)
	}
	if n, err := s.QuarantineCount(ctx, "p1"); n != 2 || err != nil {
		t.Errorf("QuarantineCount = %d, %v; want 2", n, err)
	}
	for range 2 { // deleting twice is fine
		if err := s.DeleteQuarantine(ctx, "p1", "big"); err != nil {
			t.Errorf("DeleteQuarantine = %v", err)
		}
	}
	if got, _ := s.ListQuarantine(ctx, "p1"); len(got) != 1 || got[0].Key == "big" {
		t.Errorf("after delete: %+v", got)
	}
	if n, _ := s.QuarantineCount(ctx, "p2"); n != 1 {
		t.Errorf("p2 count = %d, want 1", n)
	}
}

func TestBreaker(t *testing.T) {
	s, c := testStore(t)
	ctx := testContext(t)
	if b, err := s.Breaker(ctx, "p1"); err != nil || b.Failures != 0 || !b.RetryAt.IsZero() {
		t.Fatalf("fresh Breaker = %+v, %v", b, err)
	}
	backoff := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	for n := 1; n <= 3; n++ {
		c.Set(t0.Add(time.Duration(n) * time.Hour))
		got, err := s.RecordFailure(ctx, "p1", "unreachable "+strings.Repeat("!", n), backoff)
		want := replica.BreakerState{Failures: n, RetryAt: c.Now().Add(time.Duration(n) * time.Minute), LastError: "unreachable " + strings.Repeat("!", n)}
		if err != nil || !cmp.Equal(want, got) {
			t.Errorf("RecordFailure #%d = %+v, %v; want %+v", n, got, err, want)
		}
		if read, _ := s.Breaker(ctx, "p1"); !cmp.Equal(want, read) {
			t.Errorf("Breaker after failure #%d = %+v, want %+v", n, read, want)
		}
	}
	if b, _ := s.Breaker(ctx, "p2"); b.Failures != 0 {
		t.Errorf("p2 = %+v", b)
	}
	for range 2 {
		if err := s.RecordSuccess(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := s.Breaker(ctx, "p1"); b.Failures != 0 || !b.RetryAt.IsZero() {
		t.Errorf("after success: %+v", b)
	}
	if got, _ := s.RecordFailure(ctx, "p1", "again", backoff); got.Failures != 1 {
		t.Errorf("failure after success counts %d, want 1", got.Failures)
	}
}

func TestRegistry(t *testing.T) {
	s, _ := testStore(t)
	ctx := testContext(t)
	peers := []RegisteredPeer{
		{ID: "b", URL: "https://b.example", SecretID: "arn:aws:secretsmanager:us-east-1:1:secret:b"},
		{ID: "a", URL: "https://a.example"},
		{ID: "c", URL: "https://c.example", Disabled: true},
	}
	for _, p := range peers {
		if err := s.PutRegistryPeer(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	peers[0].URL = "https://b2.example"
	if err := s.PutRegistryPeer(ctx, peers[0]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.DeleteRegistryPeer(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RegistryPeers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]RegisteredPeer{peers[0], peers[2]}, got); diff != "" {
		t.Errorf("RegistryPeers (-want +got):\n%s", diff)
	}
}

func TestCreateTables(t *testing.T) {
	s, _ := testStore(t) // created once already
	ctx := testContext(t)
	if err := s.CreateTables(ctx); err != nil {
		t.Fatalf("second CreateTables = %v", err)
	}
	client := s.api.(*dynamodb.Client)
	for _, want := range TableSchemas(s.memories, s.state) {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: want.TableName})
		if err != nil {
			t.Fatal(err)
		}
		got := out.Table
		if !sameKeys(want.KeySchema, got.KeySchema) || got.TableStatus != types.TableStatusActive ||
			got.BillingModeSummary == nil || got.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			t.Errorf("table %s: keys %s, status %s, billing %+v", aws.ToString(want.TableName), keysText(got.KeySchema), got.TableStatus, got.BillingModeSummary)
		}
	}
	// A memories table with the state table's keys is refused, not used.
	wrong := New(client, s.state, s.state, s.now)
	if err := wrong.CreateTables(ctx); err == nil || !strings.Contains(err.Error(), "key schema") {
		t.Errorf("CreateTables over a table with other keys = %v", err)
	}
}

func TestQuarantineInvalidUTF8(t *testing.T) {
	s, _ := testStore(t)
	ctx := testContext(t)
	raw := []byte("{\"content\":\"\xff\"}")
	if err := s.Quarantine(ctx, replica.Quarantined{Peer: "p1", Reason: "not UTF-8", Raw: raw}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListQuarantine(ctx, "p1")
	sum := sha256.Sum256(raw)
	if err != nil || len(got) != 1 || string(got[0].Raw) != "{\"content\":\"\uFFFD\"}" ||
		got[0].RawSHA256 != hex.EncodeToString(sum[:]) || got[0].RawBytes != len(raw) {
		t.Errorf("ListQuarantine = %+v, %v", got, err)
	}
}
