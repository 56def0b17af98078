package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/aimemory/catchup/internal/catchup"
	"github.com/aimemory/catchup/internal/logging"
	"github.com/aimemory/catchup/internal/metrics"
)

// logLines decodes JSON log lines.
func logLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestColdStartAndRequestID(t *testing.T) {
	var buf bytes.Buffer
	a := &Handler{Log: logging.New(&buf, 0, logging.Fields{Service: "catchup"}), Now: time.Now}
	for _, id := range []string{"req-1", "req-2", "req-3"} {
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id})
		if _, err := a.Handle(ctx, json.RawMessage(`{"action":"nope"}`)); err == nil {
			t.Fatal("bad action accepted")
		}
	}
	lines := logLines(t, buf.Bytes())
	if len(lines) != 3 {
		t.Fatalf("lines: %v", lines)
	}
	for i, l := range lines {
		if l["cold_start"] != (i == 0) || l["request_id"] != []string{"req-1", "req-2", "req-3"}[i] {
			t.Errorf("invocation %d: %v", i, l)
		}
	}
}

func TestProgressLines(t *testing.T) {
	var logs, human bytes.Buffer
	a := &Handler{Log: logging.New(&logs, 0, logging.Fields{}).With("request_id", "r"), Human: &human}
	a.Progress(catchup.Progress{Peer: "p1", Pages: 4, Fetched: 4000, Applied: 3900, Cursor: "2026-01-01T00:00:00Z", RowsPerSec: 400})
	l := logLines(t, logs.Bytes())[0]
	if l["msg"] != "progress" || l["peer"] != "p1" || l["fetched"] != 4000.0 || l["applied"] != 3900.0 ||
		l["pages"] != 4.0 || l["cursor"] != "2026-01-01T00:00:00Z" || l["rows_per_sec"] != 400.0 || l["request_id"] != "r" {
		t.Fatalf("progress line: %v", l)
	}
	if !strings.Contains(human.String(), "p1: 4 pages, 4000 rows fetched, 3900 applied, 400 rows/s") {
		t.Fatalf("human line: %q", human.String())
	}
}

// A dry run's numbers are what would happen: they must not feed the alarms.
// Outside Lambda there is no metrics writer at all.
func TestMetricsNotEmitted(t *testing.T) {
	var out bytes.Buffer
	h := &Handler{Metrics: &out, Now: time.Now, MetricsLevel: metrics.LevelDetailed}
	h.emitMetrics(catchup.Report{DryRun: true, Peers: []catchup.PeerReport{{Peer: "a", Status: catchup.StatusCaughtUp}}})
	if out.Len() != 0 {
		t.Errorf("a dry run emitted %s", out.String())
	}
	(&Handler{Now: time.Now}).emitMetrics(catchup.Report{Peers: []catchup.PeerReport{{Peer: "a"}}})
}

// rotation must reach every start index whatever the schedule's period: a
// plain minute count modulo n never leaves one index when the period in
// minutes is a multiple of n.
func TestRotationReachesEveryStart(t *testing.T) {
	starts := []time.Time{
		time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 3, 14, 15, 9, 0, 0, time.UTC),
		time.Date(2030, 1, 1, 23, 59, 0, 0, time.UTC),
	}
	periods := []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
		15 * time.Minute, 30 * time.Minute, time.Hour, 24 * time.Hour}
	for _, period := range periods {
		for n := 2; n <= 16; n++ {
			for _, start := range starts {
				seen := map[int]bool{}
				for run := 0; run < 20*n && len(seen) < n; run++ {
					h := &Handler{Now: func() time.Time { return start.Add(time.Duration(run) * period) }}
					seen[(h.rotation()%n+n)%n] = true
				}
				if len(seen) != n {
					t.Errorf("every %s over %d peers from %s: only %d of %d start indexes in %d runs",
						period, n, start.Format(time.RFC3339), len(seen), n, 20*n)
				}
			}
		}
	}
}
