// Package buildinfo reports what a binary was built from: the module version
// and the VCS revision Go records in every binary (runtime/debug.BuildInfo).
// Both commands print it for -version and the function logs it at cold start.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Info is what the build recorded. Fields the build did not record are empty
// (a `go run`, or a build outside a checkout, records no revision).
type Info struct {
	Module    string // the main module's path
	Version   string // the module version: a tag, a pseudo-version, or "(devel)"
	Revision  string // vcs.revision
	Time      string // vcs.time (RFC 3339)
	Modified  bool   // vcs.modified: built from a tree with uncommitted changes
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// Short is the version as logs carry it: the module version, and the first 12
// characters of the revision when there is one ("+dirty" when modified).
func (in Info) Short() string {
	v := in.Version
	if in.Revision != "" {
		rev := in.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev
		if in.Modified {
			v += "+dirty"
		}
	}
	return v
}

// String is the -version line: the command's name, then everything known.
func (in Info) String() string {
	s := fmt.Sprintf("%s %s", in.Module, in.Version)
	if in.Revision != "" {
		s += " revision " + in.Revision
		if in.Modified {
			s += " (modified)"
		}
	}
	if in.Time != "" {
		s += " built from a commit of " + in.Time
	}
	if in.GoVersion != "" {
		s += " " + in.GoVersion
	}
	return s
}
