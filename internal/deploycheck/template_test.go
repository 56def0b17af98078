package deploycheck

// Tests that fail when template.yaml (and the files around it: Makefile,
// samconfig.toml, events/) drift from the code: the environment the config
// reads, the key schema ddbstore creates, the calls the code makes, the
// metrics it emits and the payloads it accepts.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/aimemory/catchup/internal/config"
	"github.com/aimemory/catchup/internal/ddbstore"
)

const (
	repoRoot   = "../.."
	functionID = "CatchupFunction"
)

// sdkEnvVars are the SDK's own variables the template declares (empty) so
// that `sam local invoke --env-vars` may set them: SAM overrides declared
// variables only.
var sdkEnvVars = []string{"AWS_ENDPOINT_URL"}

// tmpl is template.yaml parsed as YAML nodes, which keep the CloudFormation
// short forms (!Ref, !GetAtt, !If) as tags.
type tmpl struct{ root *yaml.Node }

func loadTemplate(t *testing.T) tmpl {
	t.Helper()
	return tmpl{root: loadYAML(t, filepath.Join(repoRoot, "template.yaml"))}
}

func loadYAML(t *testing.T, path string) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc.Content[0]
}

// get follows a dotted path of mapping keys; nil when any is missing.
func get(n *yaml.Node, path string) *yaml.Node {
	for _, key := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// keys lists a mapping's keys in order.
func keys(n *yaml.Node) []string {
	var ks []string
	for i := 0; n != nil && i+1 < len(n.Content); i += 2 {
		ks = append(ks, n.Content[i].Value)
	}
	return ks
}

// text renders a scalar with its tag when it is an intrinsic ("!Ref X").
func text(n *yaml.Node) string {
	switch {
	case n == nil:
		return "<missing>"
	case n.Kind == yaml.SequenceNode:
		var parts []string
		for _, c := range n.Content {
			parts = append(parts, text(c))
		}
		return n.Tag + "[" + strings.Join(parts, ", ") + "]"
	case n.Kind != yaml.ScalarNode:
		b, _ := yaml.Marshal(n)
		return strings.TrimSpace(string(b))
	case strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!"):
		return n.Tag + " " + n.Value
	}
	return n.Value
}

func (tp tmpl) resource(id string) *yaml.Node { return get(tp.root, "Resources."+id) }
func (tp tmpl) param(id string) *yaml.Node    { return get(tp.root, "Parameters."+id) }

// typeOf returns the Type of a resource ("" when there is none).
func (tp tmpl) typeOf(id string) string {
	if n := get(tp.resource(id), "Type"); n != nil {
		return n.Value
	}
	return ""
}

// resourcesOf lists the ids of the resources of one type.
func (tp tmpl) resourcesOf(typ string) []string {
	var ids []string
	for _, id := range keys(get(tp.root, "Resources")) {
		if tp.typeOf(id) == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// envVars is the function's Environment.Variables.
func (tp tmpl) envVars() *yaml.Node {
	return get(tp.resource(functionID), "Properties.Environment.Variables")
}

// paramName is the template parameter of an environment variable:
// PAGE_LIMIT is PageLimit.
func paramName(env string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(env), "_") {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

func TestTemplateEnvironmentIsTheConfig(t *testing.T) {
	tp := loadTemplate(t)
	vars := tp.envVars()
	want := sdkEnvVars
	for _, cv := range config.Vars {
		want = append(want, cv.Name)
	}
	if diff := cmp.Diff(sorted(want), sorted(keys(vars))); diff != "" {
		t.Fatalf("Environment.Variables of %s differ from config.Vars (-want +got):\n%s", functionID, diff)
	}
	tables := map[string]bool{"MEMORIES_TABLE": true, "STATE_TABLE": true}
	for _, cv := range config.Vars {
		t.Run(cv.Name, func(t *testing.T) {
			v := get(vars, cv.Name)
			if tables[cv.Name] {
				if v.Tag != "!Ref" || tp.typeOf(v.Value) != "AWS::DynamoDB::Table" {
					t.Fatalf("%s = %s, want !Ref of a table of this stack", cv.Name, text(v))
				}
				return
			}
			p := paramName(cv.Name)
			if v.Tag != "!Ref" || v.Value != p || tp.param(p) == nil {
				t.Fatalf("%s = %s, want !Ref %s, a parameter", cv.Name, text(v), p)
			}
			def := get(tp.param(p), "Default")
			switch {
			case cv.Default == "" && def != nil:
				t.Errorf("parameter %s has Default %q; the variable is required, so deploy must ask", p, def.Value)
			case cv.Default != "" && (def == nil || def.Value != cv.Default):
				t.Errorf("parameter %s Default = %s, want the code's default %q", p, text(def), cv.Default)
			}
		})
	}
	for _, name := range sdkEnvVars {
		if v := get(vars, name); v.Tag != "!!str" || v.Value != "" {
			t.Errorf("%s = %s, want \"\" (the SDK ignores an empty value in AWS)", name, text(v))
		}
	}
}

func TestTemplateFunctionAndSchedule(t *testing.T) {
	tp := loadTemplate(t)
	fn := tp.resource(functionID)
	tests := []struct{ path, want string }{
		{"Type", "AWS::Serverless::Function"},
		{"Metadata.BuildMethod", "makefile"},
		{"Properties.CodeUri", "."},
		{"Properties.Runtime", "provided.al2023"},
		{"Properties.Handler", "bootstrap"},
		{"Properties.Architectures", "!!seq[arm64]"},
		{"Properties.ReservedConcurrentExecutions", "1"},
		{"Properties.Role", "!GetAtt CatchupRole.Arn"},
		{"Properties.LoggingConfig.LogFormat", "JSON"},
		{"Properties.Timeout", "!Ref FunctionTimeout"},
		{"Properties.MemorySize", "!Ref FunctionMemorySize"},
		{"Properties.EventInvokeConfig.MaximumRetryAttempts", "0"},
		{"Properties.EventInvokeConfig.DestinationConfig.OnFailure.Type", "SQS"},
		{"Properties.EventInvokeConfig.DestinationConfig.OnFailure.Destination", "!GetAtt DeadLetterQueue.Arn"},
		{"Properties.Events.Tick.Type", "ScheduleV2"},
		{"Properties.Events.Tick.Properties.ScheduleExpression", "!Ref ScheduleExpression"},
		{"Properties.Events.Tick.Properties.RetryPolicy.MaximumRetryAttempts", "0"},
		{"Properties.Events.Tick.Properties.DeadLetterConfig.Arn", "!GetAtt DeadLetterQueue.Arn"},
	}
	for _, tt := range tests {
		if got := text(get(fn, tt.path)); got != tt.want {
			t.Errorf("%s.%s = %s, want %s", functionID, tt.path, got, tt.want)
		}
	}
	if evs := keys(get(fn, "Properties.Events")); len(evs) != 1 {
		t.Errorf("events %v, want only the schedule", evs)
	}
	if p := get(fn, "Properties.Policies"); p != nil {
		t.Errorf("Policies would add SAM's managed policies (Resource *); grant through CatchupRole")
	}
	for _, path := range []string{"Properties.EventInvokeConfig", "Properties.Events.Tick.Properties.RetryPolicy"} {
		age, err := strconv.Atoi(text(get(fn, path+".MaximumEventAgeInSeconds")))
		if err != nil || age > 300 {
			t.Errorf("%s.MaximumEventAgeInSeconds = %s, want at most 300 so missed ticks do not pile up", path, text(get(fn, path+".MaximumEventAgeInSeconds")))
		}
	}
	if got := text(get(tp.param("ScheduleExpression"), "Default")); got != "rate(5 minutes)" {
		t.Errorf("ScheduleExpression default = %s, want rate(5 minutes)", got)
	}
	q := tp.resource("DeadLetterQueue")
	if text(get(q, "Type")) != "AWS::SQS::Queue" || text(get(q, "Properties.SqsManagedSseEnabled")) != "true" {
		t.Errorf("DeadLetterQueue must be an AWS::SQS::Queue with SqsManagedSseEnabled")
	}
}

// TestTemplateBuildIsTheMakefiles checks that sam build runs the Makefile
// target, for the template's architecture, with the flags the issue asks for.
// The emulator test runs the same target.
func TestTemplateBuildIsTheMakefiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	mk := string(b)
	arch := map[string]string{"arm64": "arm64", "x86_64": "amd64"}[text(get(loadTemplate(t).resource(functionID), "Properties.Architectures").Content[0])]
	if m := regexp.MustCompile(`(?m)^LAMBDA_GOARCH \?= (\S+)$`).FindStringSubmatch(mk); m == nil || m[1] != arch {
		t.Errorf("Makefile LAMBDA_GOARCH default = %v, want %q (the template's architecture)", m, arch)
	}
	build := regexp.MustCompile(`(?m)^LAMBDA_BUILD = (.*)$`).FindStringSubmatch(mk)
	if build == nil {
		t.Fatal("Makefile has no LAMBDA_BUILD line")
	}
	for _, flag := range []string{"GOOS=linux ", "GOARCH=$(LAMBDA_GOARCH) ", "CGO_ENABLED=0 ", "go build ", "-tags lambda.norpc", "-trimpath", `-ldflags="-s -w"`} {
		if !strings.Contains(build[1], flag) {
			t.Errorf("LAMBDA_BUILD lacks %q: %s", flag, build[1])
		}
	}
	// sam build runs build-<LogicalId> for every function built by makefile.
	for _, id := range []string{functionID, "ReconcileFunction"} {
		if bm := text(get(loadTemplate(t).resource(id), "Metadata.BuildMethod")); bm != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod = %q, want makefile", id, bm)
		}
		target := regexp.MustCompile(`(?m)^build-` + id + `:\n(?:\t.*\n)*?\t\$\(LAMBDA_BUILD\) -o \$\(ARTIFACTS_DIR\)/bootstrap ./functions/catchup\n`)
		if !target.MatchString(mk) {
			t.Errorf("Makefile lacks target build-%s running $(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/catchup (sam build fails without it)", id)
		}
	}
}

// keyPart is one element of a key schema or attribute definition list.
type keyPart struct{ Name, Type string }

func TestTemplateTablesAreWhatInitCreates(t *testing.T) {
	tp := loadTemplate(t)
	memories, state := get(tp.envVars(), "MEMORIES_TABLE").Value, get(tp.envVars(), "STATE_TABLE").Value
	schemas := ddbstore.TableSchemas(memories, state)
	for i, id := range []string{memories, state} {
		t.Run(id, func(t *testing.T) {
			want, tbl := schemas[i], tp.resource(id)
			var wantKeys, wantAttrs []keyPart
			for _, k := range want.KeySchema {
				wantKeys = append(wantKeys, keyPart{*k.AttributeName, string(k.KeyType)})
			}
			for _, a := range want.AttributeDefinitions {
				wantAttrs = append(wantAttrs, keyPart{*a.AttributeName, string(a.AttributeType)})
			}
			if diff := cmp.Diff(wantKeys, templateParts(get(tbl, "Properties.KeySchema"), "KeyType")); diff != "" {
				t.Errorf("KeySchema differs from ddbstore.TableSchemas (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantAttrs, templateParts(get(tbl, "Properties.AttributeDefinitions"), "AttributeType")); diff != "" {
				t.Errorf("AttributeDefinitions differ from ddbstore.TableSchemas (-want +got):\n%s", diff)
			}
			if gsi := get(tbl, "Properties.GlobalSecondaryIndexes"); gsi != nil || len(want.GlobalSecondaryIndexes) > 0 {
				t.Errorf("GlobalSecondaryIndexes: the template has %s, ddbstore.TableSchemas %d; compare them here", text(gsi), len(want.GlobalSecondaryIndexes))
			}
			for path, v := range map[string]string{
				"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
				"Properties.BillingMode": string(want.BillingMode),
				"Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled": "true",
				"Properties.SSESpecification.SSEEnabled":                                 "true",
			} {
				if got := text(get(tbl, path)); got != v {
					t.Errorf("%s = %s, want %s", path, got, v)
				}
			}
		})
	}
}

func templateParts(list *yaml.Node, typeKey string) []keyPart {
	var out []keyPart
	for _, e := range list.Content {
		out = append(out, keyPart{text(get(e, "AttributeName")), text(get(e, typeKey))})
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
