package deploycheck

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aimemory/catchup/internal/metrics"
)

// TestTemplateDashboard renders the dashboard's body as CloudFormation would
// (every ${...} replaced) and checks it is JSON whose Catchup graphs name
// metrics the code emits, with the dimensions it emits them under, and that it
// shows what an operator looks for first.
func TestTemplateDashboard(t *testing.T) {
	tp := loadTemplate(t)
	ids := tp.resourcesOf("AWS::CloudWatch::Dashboard")
	if len(ids) != 1 {
		t.Fatalf("dashboards %v, want one", ids)
	}
	sub := get(tp.resource(ids[0]), "Properties.DashboardBody")
	if sub.Tag != "!Sub" {
		t.Fatalf("DashboardBody is %s, want !Sub of the JSON", sub.Tag)
	}
	body := regexp.MustCompile(`\$\{[A-Za-z:.]+\}`).ReplaceAllStringFunc(sub.Value, func(ref string) string {
		name := strings.Trim(ref, "${}")
		if p := tp.param(name); p != nil && text(get(p, "Type")) == "Number" {
			return "300"
		}
		if name != "AWS::Region" && tp.resource(strings.Split(name, ".")[0]) == nil {
			t.Errorf("dashboard references %s, neither a parameter nor a resource", ref)
		}
		return "x"
	})
	var dash struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("DashboardBody is not JSON once substituted: %v", err)
	}
	shown := map[string]bool{}
	for _, w := range dash.Widgets {
		ns := ""
		for _, m := range w.Properties.Metrics {
			if e, ok := m[0].(map[string]any); ok {
				expr, _ := e["expression"].(string)
				if m := regexp.MustCompile(`\{Catchup,FunctionName,Peer\} .*MetricName="(\w+)"`).FindStringSubmatch(expr); m != nil {
					if !slices.Contains(metrics.PeerStandard, m[1]) {
						t.Errorf("%q: per-peer %s is not emitted per peer by default", w.Properties.Title, m[1])
					}
					shown[m[1]] = true
				}
				continue
			}
			if s := m[0].(string); s != "." {
				ns = s
			}
			name := m[1].(string)
			shown[name] = true
			if ns == metrics.Namespace && !slices.Contains(metrics.Run, name) && !slices.Contains(metrics.Reconcile, name) {
				t.Errorf("%q graphs Catchup %s, which the code does not emit per run", w.Properties.Title, name)
			}
		}
	}
	for _, want := range append([]string{"Invocations", "Errors", "Duration", "WatermarkLagSeconds", "Applied",
		"ConsecutiveFailures", "QuarantinedRows", "ApproximateNumberOfMessagesVisible", "DeadlineMarginMs"}, metrics.Reconcile...) {
		if !shown[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}
