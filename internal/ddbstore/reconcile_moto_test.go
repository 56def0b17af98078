package ddbstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

func scanAll(t *testing.T, s *Store) map[string]replica.Version {
	t.Helper()
	var mu sync.Mutex
	got := map[string]replica.Version{}
	if err := s.ScanVersions(context.Background(), 4, func(v replica.Version) {
		mu.Lock()
		defer mu.Unlock()
		got[v.ID] = v
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestTombstoneRefusesOldVersionsAndYieldsToNewer(t *testing.T) {
	s, _ := testStore(t)
	ctx := context.Background()
	for i := range 30 {
		if err := s.PutMemory(ctx, version(t, fmt.Sprintf("m%02d", i), "2026-06-01T10:00:05Z", "c")); err != nil {
			t.Fatal(err)
		}
	}
	vs := scanAll(t, s)
	if len(vs) != 30 {
		t.Fatalf("scanned %d items, want 30", len(vs))
	}
	v := vs["m01"]
	want, err := s.VersionOf(version(t, "m01", "2026-06-01T10:00:05Z", "c"))
	if err != nil || v != want {
		t.Fatalf("scanned %+v, VersionOf %+v (%v)", v, want, err)
	}
	// A tombstone for a version the item no longer holds is refused.
	if err := s.Tombstone(ctx, replica.Version{ID: "m01", TS: v.TS - 1, Digest: v.Digest[:16]}, t0, t0.Add(time.Hour)); !errors.Is(err, replica.ErrStale) {
		t.Fatalf("tombstone of another version: %v", err)
	}
	if err := s.Tombstone(ctx, replica.Version{ID: "m01", TS: v.TS, Digest: v.Digest[:16]}, t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, _, err := s.GetMemory(ctx, "m01")
	if err != nil || !st.Deleted() || len(st.Fields) != 1 || st.Fields["id"] != "m01" {
		t.Fatalf("tombstone holds %+v (%v); want only the id and the marker", st, err)
	}
	if tv := scanAll(t, s)["m01"]; !tv.Deleted || tv.TS != v.TS+1 {
		t.Fatalf("scanned tombstone %+v", tv)
	}
	if err := s.Tombstone(ctx, replica.Version{ID: "m01", TS: v.TS, Digest: v.Digest[:16]}, t0, t0.Add(time.Hour)); !errors.Is(err, replica.ErrStale) {
		t.Fatalf("second tombstone: %v", err)
	}
	// The deleted version again, or an older one: refused. A newer one: lives.
	for _, at := range []string{"2026-06-01T10:00:05Z", "2026-06-01T10:00:04Z"} {
		if err := s.PutMemory(ctx, version(t, "m01", at, "zzz")); !errors.Is(err, replica.ErrStale) {
			t.Fatalf("version %s over a tombstone: %v", at, err)
		}
	}
	if err := s.PutMemory(ctx, version(t, "m01", "2026-06-01T10:00:06Z", "c")); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := s.GetMemory(ctx, "m01"); st.Deleted() || st.Fields["content"] != "c" {
		t.Fatalf("newer version over a tombstone: %+v", st)
	}
	out, err := s.api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.memories)})
	if err != nil {
		t.Fatal(err)
	}
	if d := out.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != attrExpires || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Fatalf("TTL: %+v", out.TimeToLiveDescription)
	}
}
