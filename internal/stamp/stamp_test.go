package stamp

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func utc(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

func TestParse(t *testing.T) {
	base := utc(2026, 6, 1, 10, 0, 5, 0)
	tests := []struct {
		name string
		in   string
		want time.Time // zero: must fail
	}{
		{"Z", "2026-06-01T10:00:05Z", base},
		{"lower z", "2026-06-01T10:00:05z", base},
		{"lower t", "2026-06-01t10:00:05Z", base},
		{"space separator", "2026-06-01 10:00:05Z", base},
		{"+00:00", "2026-06-01T10:00:05+00:00", base},
		{"-00:00", "2026-06-01T10:00:05-00:00", base},
		{"positive offset", "2026-06-01T12:30:05+02:30", base},
		{"negative offset", "2026-06-01T03:00:05-07:00", base},
		{"max offset", "2026-06-02T09:59:05+23:59", base},
		{"3 digits", "2026-06-01T10:00:05.123Z", base.Add(123 * time.Millisecond)},
		{"6 digits", "2026-06-01T10:00:05.123456+00:00", base.Add(123456 * time.Microsecond)},
		{"9 digits", "2026-06-01T10:00:05.123456789Z", base.Add(123456789)},
		{"1 digit", "2026-06-01T10:00:05.5Z", base.Add(500 * time.Millisecond)},
		{"12 digits truncated", "2026-06-01T10:00:05.123456789999Z", base.Add(123456789)},
		{"60 digits truncated", "2026-06-01T10:00:05.000000001" + strings.Repeat("9", 51) + "Z", base.Add(1)},
		{"leap day", "2028-02-29T00:00:00Z", utc(2028, 2, 29, 0, 0, 0, 0)},
		{"year 9999", "9999-12-31T23:59:59Z", utc(9999, 12, 31, 23, 59, 59, 0)},
		{"year 0000", "0000-01-01T00:00:00Z", utc(0, 1, 1, 0, 0, 0, 0)},
		{"offset crosses day", "2026-01-01T00:30:00+01:00", utc(2025, 12, 31, 23, 30, 0, 0)},
		// A leap second is the last nanosecond of its minute, whatever its fraction.
		{"leap second", "2026-06-30T23:59:60Z", utc(2026, 6, 30, 23, 59, 59, 999_999_999)},
		{"leap second with fraction", "2026-06-30T23:59:60.5+00:00", utc(2026, 6, 30, 23, 59, 59, 999_999_999)},
		{"leap second with offset", "2026-07-01T01:59:60+02:00", utc(2026, 6, 30, 23, 59, 59, 999_999_999)},

		{"empty", "", time.Time{}},
		{"date only", "2026-06-01", time.Time{}},
		{"no zone", "2026-06-01T10:00:05", time.Time{}},
		{"single-digit hour", "2026-06-01T1:00:05.5Z", time.Time{}},
		{"single-digit month", "2026-6-01T10:00:05.55Z", time.Time{}},
		{"comma fraction", "2026-06-01T10:00:05,5Z", time.Time{}},
		{"empty fraction", "2026-06-01T10:00:05.Z", time.Time{}},
		{"two fractions", "2026-06-01T10:00:05.5.5Z", time.Time{}},
		{"offset without colon", "2026-06-01T10:00:05+0000", time.Time{}},
		{"offset hour only", "2026-06-01T10:00:05+00", time.Time{}},
		{"offset hour 24", "2026-06-01T10:00:05+24:00", time.Time{}},
		{"offset minute 60", "2026-06-01T10:00:05+00:60", time.Time{}},
		{"unicode minus offset", "2026-06-01T10:00:05\u221200:00", time.Time{}},
		{"separator x", "2026-06-01x10:00:05Z", time.Time{}},
		{"month 13", "2026-13-01T10:00:05Z", time.Time{}},
		{"month 00", "2026-00-01T10:00:05Z", time.Time{}},
		{"day 00", "2026-06-00T10:00:05Z", time.Time{}},
		{"february 30", "2026-02-30T10:00:05Z", time.Time{}},
		{"february 29 off year", "2026-02-29T10:00:05Z", time.Time{}},
		{"june 31", "2026-06-31T10:00:05Z", time.Time{}},
		{"hour 24", "2026-06-01T24:00:00Z", time.Time{}},
		{"minute 60", "2026-06-01T10:60:05Z", time.Time{}},
		{"second 61", "2026-06-30T23:59:61Z", time.Time{}},
		{"leap second, empty fraction", "2026-06-30T23:59:60.Z", time.Time{}},
		{"trailing text", "2026-06-01T10:00:05Zjunk", time.Time{}},
		{"trailing space", "2026-06-01T10:00:05Z ", time.Time{}},
		{"leading space", " 2026-06-01T10:00:05Z", time.Time{}},
		{"five-digit year", "12026-06-01T10:00:05Z", time.Time{}},
		{"signed year", "+2026-06-01T10:00:05Z", time.Time{}},
		{"unix seconds", "1780308005", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.want.IsZero() {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want an error", tt.in, got)
				}
				if Valid(tt.in) {
					t.Errorf("Valid(%q) = true, want false", tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("Parse(%q) = %v, want %v in UTC", tt.in, got, tt.want)
			}
			if !Valid(tt.in) {
				t.Errorf("Valid(%q) = false, want true", tt.in)
			}
		})
	}
}

func TestParseErrorClipsLongInput(t *testing.T) {
	long := "x" + strings.Repeat("9", 10000)
	_, err := Parse(long)
	if err == nil {
		t.Fatal("Parse accepted garbage")
	}
	if n := len(err.Error()); n > 200 {
		t.Errorf("error is %d bytes long, want it clipped", n)
	}
}

// TestTextLessDiffersFromInstants pins the protocol's central trap (§3): the
// server's text order (byte-wise, as the peers' SQLite compares
// `updated_at > :since`) is not the instant order when formats mix.
func TestTextLessDiffersFromInstants(t *testing.T) {
	early, late := "2026-06-01T10:00:05Z", "2026-06-01T10:00:05.5+00:00"
	if !(late < early) || early < late {
		t.Errorf("text order: want %q before %q byte-wise", late, early)
	}
	a, errA := Parse(early)
	b, errB := Parse(late)
	if errA != nil || errB != nil || !a.Before(b) {
		t.Errorf("instants: want %q before %q (%v, %v)", early, late, errA, errB)
	}
}

// TestParseRoundTrip checks Parse against the standard library's own RFC 3339
// output over random instants, offsets and fraction widths.
func TestParseRoundTrip(t *testing.T) {
	const seed = 1
	rng := rand.New(rand.NewPCG(seed, seed))
	layouts := []string{
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05.000Z07:00",
		"2006-01-02T15:04:05.000000Z07:00",
		"2006-01-02T15:04:05.000000000Z07:00",
		"2006-01-02 15:04:05.999999999Z07:00",
	}
	for range 5000 {
		sec := rng.Int64N(253402300800) // seconds since 0001-01-01, below year 10000
		in := time.Unix(sec-62135596800, rng.Int64N(1e9)).UTC()
		zone := time.FixedZone("", (rng.IntN(2*1439+1)-1439)*60) // within ±23:59
		layout := layouts[rng.IntN(len(layouts))]
		s := in.In(zone).Format(layout)
		got, err := Parse(s)
		if err != nil {
			t.Fatalf("seed %d: Parse(%q): %v", seed, s, err)
		}
		want, err := time.Parse(layout, s)
		if err != nil {
			t.Fatalf("seed %d: time.Parse(%q): %v", seed, s, err)
		}
		if !got.Equal(want) {
			t.Fatalf("seed %d: Parse(%q) = %v, want %v", seed, s, got, want)
		}
	}
}

// A leap second orders after every instant of its minute and before the next.
func TestLeapSecondOrder(t *testing.T) {
	leap, err := Parse("2026-06-30T23:59:60.25Z")
	if err != nil {
		t.Fatal(err)
	}
	for _, before := range []string{"2026-06-30T23:59:59Z", "2026-06-30T23:59:59.999999998Z", "2026-06-30T23:59:00Z"} {
		if b, _ := Parse(before); !b.Before(leap) {
			t.Errorf("%s = %v, want before the leap second %v", before, b, leap)
		}
	}
	if next, _ := Parse("2026-07-01T00:00:00Z"); !leap.Before(next) {
		t.Errorf("leap second %v, want before the next minute %v", leap, next)
	}
}

// TestDaysInAgreesWithPackageTime: the month lengths Parse checks days
// against are package time's, for every month of every year it reads.
func TestDaysInAgreesWithPackageTime(t *testing.T) {
	for year := range 10000 {
		for month := 1; month <= 12; month++ {
			if got, want := daysIn(year, month), time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day(); got != want {
				t.Fatalf("daysIn(%d, %d) = %d, package time has %d", year, month, got, want)
			}
		}
	}
}

// BenchmarkParse parses the timestamp of a row: each row has two, and a
// page's watermark rules read each once more.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("2026-06-01T10:00:05.123456+02:00"); err != nil {
			b.Fatal(err)
		}
	}
}
