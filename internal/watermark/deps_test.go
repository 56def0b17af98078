package watermark

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportsOnlyStdlib keeps the rules pure (style.md): the package and
// everything it imports is the standard library, except internal/stamp (and its pure utf8cut),
// itself a leaf over the standard library. No AWS, no I/O package of ours.
func TestImportsOnlyStdlib(t *testing.T) {
	const module = "github.com/aimemory/catchup/"
	allowed := []string{module + "internal/watermark", module + "internal/stamp", module + "internal/utf8cut"}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list imports: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	var ours []string
	for line := range strings.Lines(string(out)) {
		path, std, _ := strings.Cut(strings.TrimSpace(line), " ")
		if std == "true" {
			continue
		}
		if !slices.Contains(allowed, path) {
			t.Errorf("internal/watermark depends on %s", path)
		}
		ours = append(ours, path)
	}
	// The listing must have run: it names the package itself.
	if !slices.Contains(ours, allowed[0]) {
		t.Errorf("go list -deps did not list the package; got:\n%s", out)
	}
}
