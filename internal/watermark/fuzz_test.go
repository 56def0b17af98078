package watermark

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzRows reads one row per line; a line starting with '!' is not done.
func fuzzRows(spec string) []Row {
	if spec == "" {
		return nil
	}
	var rows []Row
	for line := range strings.SplitSeq(spec, "\n") {
		if at, failed := strings.CutPrefix(line, "!"); failed {
			rows = append(rows, f(at))
		} else {
			rows = append(rows, d(line))
		}
	}
	return rows
}

// FuzzAdvance checks the invariants of any decision on arbitrary pages:
// never backward, never past a row not done nor onto the last row of a full
// page, a stored watermark that parses and is not in the future, an outcome
// consistent with the page, and rows left as the caller gave them.
//
// Run it with: go test ./internal/watermark -run '^$' -fuzz FuzzAdvance -fuzztime 20s
func FuzzAdvance(f *testing.F) {
	seeds := []struct {
		w, c, rows, next string
		examined, limit  int
		skewSec          int64
	}{
		{t0, t0, t1 + "\n" + t3 + "\n" + t2 + "\n" + t3, "", 4, 4, 300},
		{t0, t0, t1 + "\n" + t2 + "\n!" + t2, "", 3, 100, 300},
		{t0, t0, t1 + "\n!" + t2 + "\n" + t3, t5, 3, 100, 300},
		{t0, t0, t5 + "\n" + t5half, "", 2, 2, 300},
		{t0, t0, "!" + t5half + "\n" + t5, "", 2, 100, 300},
		{t0, t0, "", y9999, 4, 4, 300},
		{t0, t0, "", t3, 4, 4, 300},
		{t0, t0, "", "2026-06-01T10:00:03", 4, 4, 300},
		{t0, t0, t2 + "\n" + t2, "", MaxLimit, MaxLimit, 300},
		{t0, t0, t1 + "\n" + future1 + "\n" + pastAfter, "", 3, 100, 300},
		{t1, future1, future2 + "\n" + pastAfter, "", 2, 100, 300},
		{"", "", "\n" + t1 + "\n" + junk, "", 3, 0, 300},
		{t3, t3, t1 + "\n" + t2, t2, 2, 2, -300},
		{t0, t0, t1 + "\n" + edge + "\n" + beyond, beyond, 3, 3, 300},
	}
	for _, s := range seeds {
		f.Add(s.w, s.c, s.rows, s.next, s.examined, s.limit, now.Unix(), s.skewSec)
	}
	f.Fuzz(func(t *testing.T, w, c, spec, next string, examined, limit int, nowSec, skewSec int64) {
		st := State{Watermark: w, Cursor: c}
		p := Page{Rows: fuzzRows(spec), Examined: examined, Limit: limit, NextSince: next}
		clock := time.Unix(nowSec, 0).UTC()
		sk := time.Duration(skewSec%(1<<32)) * time.Second
		keep := slices.Clone(p.Rows)
		got := Advance(st, p, clock, sk)
		if !slices.Equal(keep, p.Rows) {
			t.Fatalf("Advance changed the caller's rows")
		}
		checkInvariants(t, st, p, clock, sk, got)
		slices.Reverse(p.Rows)
		if again := Advance(st, p, clock, sk); again != got {
			t.Errorf("reversed rows: %+v, want %+v", again, got)
		}
	})
}
