package deploycheck

// Least privilege, checked both ways: every statement of the function's role
// names only our tables, log group, queue or peer secrets; and its DynamoDB and
// Secrets Manager actions are exactly the SDK operations the code can reach.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// statement is one policy statement of the function's role.
type statement struct {
	policy    string
	actions   []string
	resources []*yaml.Node
	condition string // the Fn::If condition guarding it, "" when none
}

// roleStatements collects the statements of a role's inline policies,
// following both branches of !If.
func roleStatements(t *testing.T, role *yaml.Node) []statement {
	t.Helper()
	var out []statement
	var walk func(p *yaml.Node, cond string)
	walk = func(p *yaml.Node, cond string) {
		switch {
		case p.Tag == "!If":
			for _, branch := range p.Content[1:] {
				walk(branch, p.Content[0].Value)
			}
		case p.Tag == "!Ref" && p.Value == "AWS::NoValue":
		case p.Kind == yaml.MappingNode:
			for _, st := range get(p, "PolicyDocument.Statement").Content {
				if e := text(get(st, "Effect")); e != "Allow" {
					t.Errorf("policy %s: Effect %s; the role only allows", text(get(p, "PolicyName")), e)
				}
				s := statement{policy: text(get(p, "PolicyName")), condition: cond}
				for _, a := range seq(get(st, "Action")) {
					s.actions = append(s.actions, a.Value)
				}
				s.resources = seq(get(st, "Resource"))
				out = append(out, s)
			}
		default:
			t.Fatalf("unexpected policy node %s", text(p))
		}
	}
	for _, p := range get(role, "Properties.Policies").Content {
		walk(p, "")
	}
	return out
}

// seq returns a sequence's elements, or the node itself when it is a scalar.
// A !Ref of a list parameter stays one node.
func seq(n *yaml.Node) []*yaml.Node {
	if n != nil && n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return []*yaml.Node{n}
}

func TestTemplateRoleIsLeastPrivilege(t *testing.T) {
	tp := loadTemplate(t)
	if roles := tp.resourcesOf("AWS::IAM::Role"); !slices.Equal(roles, []string{"CatchupRole"}) {
		t.Fatalf("roles %v, want only CatchupRole (SAM makes the scheduler's own)", roles)
	}
	// What each service's statements may name, as the rendered resource.
	allowed := map[string]func(r *yaml.Node) bool{
		"dynamodb": getAttArn(tp, "AWS::DynamoDB::Table"),
		"logs":     getAttArn(tp, "AWS::Logs::LogGroup"),
		"sqs":      getAttArn(tp, "AWS::SQS::Queue"),
		"secretsmanager": func(r *yaml.Node) bool {
			return r.Tag == "!Ref" && text(get(tp.param(r.Value), "Type")) == "CommaDelimitedList"
		},
	}
	got := map[string][]string{}
	for _, s := range roleStatements(t, tp.resource("CatchupRole")) {
		service, _, _ := strings.Cut(s.actions[0], ":")
		ok := allowed[service]
		if ok == nil {
			t.Errorf("policy %s: service %s is not one the code uses", s.policy, service)
			continue
		}
		for _, a := range s.actions {
			if !strings.HasPrefix(a, service+":") || strings.Contains(a, "*") {
				t.Errorf("policy %s: action %s: one service per statement, no wildcards", s.policy, a)
			}
			got[service] = append(got[service], a)
		}
		for _, r := range s.resources {
			if !ok(r) {
				t.Errorf("policy %s: resource %s is not one of ours for %s", s.policy, text(r), service)
			}
		}
		if service == "secretsmanager" && s.condition != "HasPeerSecrets" {
			t.Errorf("policy %s: secrets statement must be guarded by HasPeerSecrets (an empty list is no resource)", s.policy)
		}
	}
	decls := parseFuncs(t)
	want := map[string][]string{
		"dynamodb":       reachableActions(decls, &dynamodb.Client{}, "dynamodb"),
		"secretsmanager": reachableActions(decls, &secretsmanager.Client{}, "secretsmanager"),
		"logs":           {"logs:CreateLogStream", "logs:PutLogEvents"},
		"sqs":            {"sqs:SendMessage"},
	}
	for service := range want {
		if diff := cmp.Diff(sorted(want[service]), sorted(got[service])); diff != "" {
			t.Errorf("%s actions differ from what the code calls (-want +got):\n%s", service, diff)
		}
	}
}

// getAttArn accepts !GetAtt X.Arn of a resource of the given type.
func getAttArn(tp tmpl, typ string) func(*yaml.Node) bool {
	return func(r *yaml.Node) bool {
		id, attr, _ := strings.Cut(r.Value, ".")
		return r.Tag == "!GetAtt" && attr == "Arn" && tp.typeOf(id) == typ
	}
}

// TestTemplateNoWildcardResource walks the whole template: no policy anywhere
// (the role's or one added later) may name "*" or a pattern as its resource.
func TestTemplateNoWildcardResource(t *testing.T) {
	var walk func(n *yaml.Node, under bool)
	walk = func(n *yaml.Node, under bool) {
		if n.Kind == yaml.ScalarNode && under && strings.Contains(n.Value, "*") {
			t.Errorf("line %d: resource %s has a wildcard", n.Line, text(n))
		}
		for i, c := range n.Content {
			isResource := n.Kind == yaml.MappingNode && i%2 == 1 && n.Content[i-1].Value == "Resource"
			walk(c, under || isResource)
		}
	}
	walk(loadTemplate(t).root, false)
}

// sdkOperations lists the API operations of an SDK client: its methods
// Op(ctx, *OpInput, ...).
func sdkOperations(client any) map[string]bool {
	ops := map[string]bool{}
	typ := reflect.TypeOf(client)
	for i := range typ.NumMethod() {
		m := typ.Method(i)
		if m.Type.NumIn() == 4 && m.Type.In(2).Kind() == reflect.Pointer && m.Type.In(2).Elem().Name() == m.Name+"Input" {
			ops[m.Name] = true
		}
	}
	return ops
}

var (
	paginatorRE = regexp.MustCompile(`^New(\w+)Paginator$`)
	waiterRE    = regexp.MustCompile(`^New(Table\w*)Waiter$`)
)

// transactKinds maps the members of a TransactWriteItem to the IAM action
// each needs (TransactWriteItems itself is no IAM action).
var transactKinds = map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}

// funcRefs is what one function declaration names: identifiers (callees,
// method values, SDK operations) and the transaction members it builds
// (types.Put, types.Update, types.Delete, types.ConditionCheck).
type funcRefs struct{ names, transact map[string]bool }

// lambdaRoots is where the Lambda path starts, and localOnly what it never
// takes: main's -init branch (CreateTables, DescribeTable) runs on a laptop.
var (
	lambdaRoots = []string{"main"}
	localOnly   = []string{"runInit"}
)

// reachableActions returns the IAM actions of the SDK operations reachable
// from lambdaRoots. Reachability is by name across our packages (interface
// calls included), so it over-approximates: it may ask for an action, never
// miss one.
func reachableActions(decls map[string][]funcRefs, client any, service string) []string {
	ops := sdkOperations(client)
	queue := slices.Clone(lambdaRoots)
	seen, actions, kinds := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] || slices.Contains(localOnly, name) {
			continue
		}
		seen[name] = true
		for _, r := range decls[name] {
			for k := range r.transact {
				kinds[k] = true
			}
			for ref := range r.names {
				queue = append(queue, ref)
				if ops[ref] {
					actions[ref] = true
				}
			}
		}
	}
	// Transactions are authorized per member; TransactWriteItems is no action.
	if actions["TransactWriteItems"] {
		delete(actions, "TransactWriteItems")
		for k := range kinds {
			actions[transactKinds[k]] = true
		}
	}
	if actions["TransactGetItems"] {
		delete(actions, "TransactGetItems")
		actions["GetItem"] = true
	}
	var out []string
	for a := range actions {
		out = append(out, service+":"+a)
	}
	return out
}

// parseFuncs indexes the function declarations of functions/catchup and
// every package under internal/ by name.
func parseFuncs(t *testing.T) map[string][]funcRefs {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(repoRoot, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	own, _ := filepath.Glob(filepath.Join(repoRoot, "functions", "catchup", "*.go"))
	decls := map[string][]funcRefs{}
	fset := token.NewFileSet()
	for _, f := range append(files, own...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				decls[fd.Name.Name] = append(decls[fd.Name.Name], refsOf(fd.Body))
			}
		}
	}
	if decls["main"] == nil || decls["runInit"] == nil {
		t.Fatal("no func main or runInit in functions/catchup: update lambdaRoots and localOnly")
	}
	return decls
}

func refsOf(body ast.Node) funcRefs {
	r := funcRefs{names: map[string]bool{}, transact: map[string]bool{}}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			r.names[n.Name] = true
			if m := paginatorRE.FindStringSubmatch(n.Name); m != nil {
				r.names[m[1]] = true
			}
			if waiterRE.MatchString(n.Name) {
				r.names["DescribeTable"] = true
			}
		case *ast.SelectorExpr:
			// types.Put{...}, types.ConditionCheck{...}: members of a transaction.
			if x, ok := n.X.(*ast.Ident); ok && x.Name == "types" && transactKinds[n.Sel.Name] != "" {
				r.transact[n.Sel.Name] = true
			}
		}
		return true
	})
	return r
}
