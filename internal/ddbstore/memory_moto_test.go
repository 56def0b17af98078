package ddbstore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/aimemory/catchup/internal/catchup/replica"
)

// version is a row as a peer sends it.
func version(t *testing.T, id, updatedAt, content string) replica.Memory {
	t.Helper()
	instant, err := time.Parse(time.RFC3339Nano, updatedAt)
	if err != nil {
		t.Fatal(err)
	}
	return replica.Memory{
		ID:        id,
		UpdatedAt: updatedAt,
		Instant:   instant,
		Fields:    map[string]any{"id": id, "updated_at": updatedAt, "content": content},
		Peer:      "p1",
	}
}

func TestPutMemoryNewerWins(t *testing.T) {
	s, _ := testStore(t)
	type write struct {
		updatedAt string
		want      error
	}
	tests := []struct {
		name   string
		writes []write
		final  string
	}{
		{"newer instant wins though its text sorts first", []write{
			{"2026-06-01T10:00:05Z", nil},
			{"2026-06-01T10:00:05.5+00:00", nil},
		}, "2026-06-01T10:00:05.5+00:00"},
		{"older instant loses though its text sorts last", []write{
			{"2026-06-01T10:00:05.5+00:00", nil},
			{"2026-06-01T10:00:05Z", replica.ErrStale},
		}, "2026-06-01T10:00:05.5+00:00"},
		{"same version twice", []write{
			{"2026-06-01T10:00:05Z", nil},
			{"2026-06-01T10:00:05Z", replica.ErrStale},
		}, "2026-06-01T10:00:05Z"},
		{"older", []write{
			{"2026-06-01T10:00:06Z", nil},
			{"2026-06-01T10:00:05Z", replica.ErrStale},
			{"2026-06-01T12:00:05+02:00", replica.ErrStale},
		}, "2026-06-01T10:00:06Z"},
		{"offsets compared as instants", []write{
			{"2026-06-01T12:00:05+02:00", nil},
			{"2026-06-01T10:00:04.999999999Z", replica.ErrStale},
			{"2026-06-01T10:00:05.000000001Z", nil},
		}, "2026-06-01T10:00:05.000000001Z"},
		{"year 9999 and before 1970", []write{
			{"1969-12-31T23:59:58Z", nil},
			{"1969-12-31T23:59:59.5Z", nil},
			{"1969-12-31T23:59:58.999Z", replica.ErrStale},
			{"9999-12-31T23:59:59.999999999Z", nil},
			{"2026-06-01T10:00:05Z", replica.ErrStale},
			{"9999-12-31T23:59:59.999999998Z", replica.ErrStale},
		}, "9999-12-31T23:59:59.999999999Z"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			id := "m" + string(rune('a'+i))
			for _, w := range tt.writes {
				err := s.PutMemory(ctx, version(t, id, w.updatedAt, "content of "+w.updatedAt))
				if !errors.Is(err, w.want) || (w.want == nil && err != nil) {
					t.Errorf("PutMemory(%s) = %v, want %v", w.updatedAt, err, w.want)
				}
			}
			st, found, err := s.GetMemory(ctx, id)
			if err != nil || !found {
				t.Fatalf("GetMemory = %v, %v", found, err)
			}
			want := version(t, id, tt.final, "content of "+tt.final)
			if st.UpdatedAt != want.UpdatedAt || st.Fields["content"] != want.Fields["content"] || !st.Instant.Equal(want.Instant) {
				t.Errorf("stored %s (%v) %q, want %s", st.UpdatedAt, st.Instant, st.Fields["content"], tt.final)
			}
		})
	}
}

// TestPutMemoryTiesConverge writes two versions with the same instant in
// both orders, each order into tables of its own: both must end up holding
// the same version, the one with the larger digest.
func TestPutMemoryTiesConverge(t *testing.T) {
	tests := []struct {
		name string
		a, b replica.Memory
	}{
		{"different text", version(t, "m1", "2026-06-01T10:00:05Z", "same"), version(t, "m1", "2026-06-01T10:00:05.000+00:00", "same")},
		{"same text, different content", version(t, "m1", "2026-06-01T10:00:05Z", "from peer a"), version(t, "m1", "2026-06-01T10:00:05Z", "from peer b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ia, _ := memoryItem(tt.a, t0)
			ib, _ := memoryItem(tt.b, t0)
			winner, loser := tt.a, tt.b
			if stringAttr(ib, attrDigest) > stringAttr(ia, attrDigest) {
				winner, loser = tt.b, tt.a
			}
			for _, order := range [][2]replica.Memory{{winner, loser}, {loser, winner}} {
				s, _ := testStore(t)
				ctx := testContext(t)
				if err := s.PutMemory(ctx, order[0]); err != nil {
					t.Fatal(err)
				}
				err := s.PutMemory(ctx, order[1])
				if wantStale := order[1].Fields["content"] == loser.Fields["content"] && order[1].UpdatedAt == loser.UpdatedAt; errors.Is(err, replica.ErrStale) != wantStale {
					t.Errorf("second write = %v, want stale: %v", err, wantStale)
				}
				st, _, err := s.GetMemory(ctx, "m1")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(winner.Fields, st.Fields); diff != "" {
					t.Errorf("stored (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestPutMemoryRoundTrip(t *testing.T) {
	s, _ := testStore(t)
	ctx := testContext(t)
	m := version(t, "m1", "2026-06-01T10:00:05.123456+00:00", "")
	m.Fields = decodeRow(t, `{"id":"m1","updated_at":"2026-06-01T10:00:05.123456+00:00",
		"content":"line one\n\tline two — ünïcode","title":"","tags":["a",""],"priority":5,"confidence":0.25,
		"access_count":0,"last_accessed_at":null,"metadata":{"agent":{"depth":[1,[2,[3,{"x":null}]]],"ok":true},"empty":{},"list":[]},
		"valid_from":"2026-01-01T00:00:00Z","lifecycle_state":{"next":{"what":"unknown to us","n":-3}}}`)
	m.Peer = "peer-x"
	if err := s.PutMemory(ctx, m); err != nil {
		t.Fatal(err)
	}
	st, found, err := s.GetMemory(ctx, "m1")
	if err != nil || !found {
		t.Fatalf("GetMemory = %v, %v", found, err)
	}
	if diff := cmp.Diff(m, st.Memory); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if st.WrittenAt != "2026-06-01T10:00:00Z" || len(st.Digest) != 64 {
		t.Errorf("meta: written at %q, digest %q", st.WrittenAt, st.Digest)
	}
	all, err := s.ScanMemories(ctx)
	if err != nil || len(all) != 1 || all[0].ID != "m1" {
		t.Errorf("ScanMemories = %d items, %v", len(all), err)
	}
	if _, found, err := s.GetMemory(ctx, "absent"); found || err != nil {
		t.Errorf("GetMemory(absent) = %v, %v", found, err)
	}
}

func TestPutMemoryUnwritable(t *testing.T) {
	s, _ := testStore(t)
	// 25,000 numbers of 38 digits: small by our lower bound, but over 400 KB
	// for DynamoDB (and moto), so only the server refuses it.
	wide := make([]any, 25000)
	for i := range wide {
		wide[i] = jsonNumber("12345678901234567890123456789012345678")
	}
	tests := []struct {
		name   string
		fields map[string]any
		local  bool // refused before any request
	}{
		{"content over 400 KB", map[string]any{"content": strings.Repeat("x", 401*1024)}, true},
		{"number 1e400", map[string]any{"metadata": map[string]any{"n": jsonNumber("1e400")}}, true},
		{"reserved field", map[string]any{"_cu_peer": "forged"}, true},
		{"too large for the server", map[string]any{"metadata": map[string]any{"wide": wide}}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			m := version(t, "u"+string(rune('a'+i)), "2026-06-01T10:00:05Z", "c")
			m.Fields = tt.fields
			if _, err := memoryItem(m, t0); (err == nil) == tt.local {
				t.Fatalf("memoryItem = %v, want local refusal: %v", err, tt.local)
			}
			if err := s.PutMemory(ctx, m); !errors.Is(err, replica.ErrUnwritable) {
				t.Errorf("PutMemory = %v, want replica.ErrUnwritable", err)
			}
			if _, found, err := s.GetMemory(ctx, m.ID); found || err != nil {
				t.Errorf("GetMemory after refusal = %v, %v", found, err)
			}
		})
	}
}

// TestPutMemoryNumberBounds checks that checkNumber is not stricter than
// DynamoDB at the edges of its range.
func TestPutMemoryNumberBounds(t *testing.T) {
	s, _ := testStore(t)
	ctx := testContext(t)
	for i, n := range []string{"9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125", "1E-130", "12345678901234567890123456789012345678"} {
		m := version(t, "n"+string(rune('a'+i)), "2026-06-01T10:00:05Z", "c")
		m.Fields["n"] = jsonNumber(n)
		if err := s.PutMemory(ctx, m); err != nil {
			t.Errorf("PutMemory(%s) = %v", n, err)
		}
	}
}

// relayPair is a memory's full version and a v0.6 relay's copy of it: the
// same updated_at, one field fewer, and a digest larger than the full
// version's, so that the digest alone would pick the relay's copy.
func relayPair(t *testing.T, id string) (full, relay replica.Memory) {
	t.Helper()
	const at = "2026-06-01T10:00:05Z"
	for i := 0; ; i++ {
		full = version(t, id, at, fmt.Sprintf("content %d", i))
		full.Fields["lifecycle_state"] = "active"
		relay = version(t, id, at, fmt.Sprintf("content %d", i))
		fi, _ := memoryItem(full, t0)
		ri, _ := memoryItem(relay, t0)
		if stringAttr(ri, attrDigest) > stringAttr(fi, attrDigest) {
			return full, relay
		}
	}
}

// At equal instants the version with more fields wins whatever the digests
// and whatever the order of the writes (docs/protocol.md §6), and a dry run
// answers the same.
func TestPutMemoryMoreFieldsWinTie(t *testing.T) {
	full, relay := relayPair(t, "m1")
	for _, order := range [][2]replica.Memory{{full, relay}, {relay, full}} {
		s, _ := testStore(t)
		ctx := testContext(t)
		if err := s.PutMemory(ctx, order[0]); err != nil {
			t.Fatal(err)
		}
		if wins, err := s.WouldApply(ctx, order[1]); err != nil || wins != (order[1].FieldCount() > order[0].FieldCount()) {
			t.Errorf("WouldApply(second) = %v, %v", wins, err)
		}
		err := s.PutMemory(ctx, order[1])
		if wantStale := order[1].FieldCount() < order[0].FieldCount(); errors.Is(err, replica.ErrStale) != wantStale || (!wantStale && err != nil) {
			t.Errorf("second write = %v, want stale: %v", err, wantStale)
		}
		st, _, err := s.GetMemory(ctx, "m1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(full.Fields, st.Fields); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
	}
}

// An item written before field counts were kept has no _cu_nf: at its
// instant it counts as having the fewest fields, so a version of that
// instant written now replaces it (even with a smaller digest and fewer
// fields) and carries a count; an older instant still loses to it.
func TestPutMemoryOverItemWithoutFieldCount(t *testing.T) {
	full, relay := relayPair(t, "m1")
	s, _ := testStore(t)
	ctx := testContext(t)
	legacy, err := memoryItem(relay, t0)
	if err != nil {
		t.Fatal(err)
	}
	delete(legacy, attrNF)
	legacy["lifecycle_state"] = &types.AttributeValueMemberS{Value: "legacy"} // more fields than either
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.memories), Item: legacy}); err != nil {
		t.Fatal(err)
	}
	older := version(t, "m1", "2026-06-01T10:00:04Z", "older")
	if err := s.PutMemory(ctx, older); !errors.Is(err, replica.ErrStale) {
		t.Errorf("older instant over a legacy item = %v, want ErrStale", err)
	}
	if wins, err := s.WouldApply(ctx, relay); err != nil || !wins {
		t.Errorf("WouldApply(same instant) = %v, %v; want true", wins, err)
	}
	if err := s.PutMemory(ctx, relay); err != nil {
		t.Fatalf("same instant over a legacy item = %v, want written", err)
	}
	if err := s.PutMemory(ctx, full); err != nil {
		t.Fatalf("more fields after the rewrite = %v, want written", err)
	}
	if err := s.PutMemory(ctx, relay); !errors.Is(err, replica.ErrStale) {
		t.Errorf("fewer fields once counted = %v, want ErrStale", err)
	}
	st, _, err := s.GetMemory(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(full.Fields, st.Fields); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}
