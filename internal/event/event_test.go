package event

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want Payload
	}{
		{"", Payload{Action: Run}},
		{"null", Payload{Action: Run}},
		{"{}", Payload{Action: Run}},
		{`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`, Payload{Action: Run}},
		{`{"peers":["a"]}`, Payload{Action: Run, Peers: []string{"a"}}},
		{`{"action":"reset_watermark","peers":["a"],"watermark":""}`, Payload{Action: ResetWatermark, Peers: []string{"a"}}},
	} {
		got, err := Parse([]byte(tc.raw))
		if err != nil || got.Action != tc.want.Action || len(got.Peers) != len(tc.want.Peers) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.raw, got, err, tc.want)
		}
	}
	for _, raw := range []string{`[1]`, `{"dryrun":true}`, `{"action":"run","source":"aws.events"}`} {
		if _, err := Parse([]byte(raw)); err == nil || !strings.HasPrefix(err.Error(), "event: ") {
			t.Errorf("Parse(%q) error = %v, want an event: error", raw, err)
		}
	}
}
