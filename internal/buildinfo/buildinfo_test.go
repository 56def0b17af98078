package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/aimemory/catchup", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	in := fromBuildInfo(bi)
	if in.Version != "v1.2.3" || in.Revision != "0123456789abcdef0123" || !in.Modified || in.Time != "2026-12-01T10:00:00Z" {
		t.Fatalf("fromBuildInfo = %+v", in)
	}
	if got, want := in.Short(), "v1.2.3 0123456789ab+dirty"; got != want {
		t.Errorf("Short = %q, want %q", got, want)
	}
	for _, part := range []string{"github.com/aimemory/catchup v1.2.3", "revision 0123456789abcdef0123 (modified)", "2026-12-01T10:00:00Z", "go1.26.8"} {
		if !strings.Contains(in.String(), part) {
			t.Errorf("String() = %q lacks %q", in.String(), part)
		}
	}
}

func TestFromBuildInfoWithoutVCS(t *testing.T) {
	in := fromBuildInfo(&debug.BuildInfo{Main: debug.Module{Path: "m"}})
	if in.Version != "(devel)" || in.Short() != "(devel)" {
		t.Fatalf("no version or VCS: %+v, Short %q", in, in.Short())
	}
}

func TestReadInTest(t *testing.T) {
	// A test binary has build info; its main module is this one.
	if in := Read(); in.GoVersion == "" {
		t.Fatalf("Read() in a test binary = %+v", in)
	}
}
