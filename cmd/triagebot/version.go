package main

import (
	"fmt"
	"runtime/debug"
)

// version is set by the release build: go build -ldflags "-X main.version=v1.2.3" (deploy/Dockerfile).
var version string

// versionCmd prints the version.
type versionCmd struct{}

func (c *versionCmd) Run(o streams) error {
	fmt.Fprintln(o.stdout, versionLine())
	return nil
}

// versionLine is "triagebot VERSION (commit C, built DATE, go1.x)" from the link-time version
// and the build information Go records in the binary.
func versionLine() string {
	v, commit, modified, at, goVersion := version, "", false, "", "unknown Go"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			case "vcs.time":
				at = s.Value
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	line := "triagebot " + v
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if modified {
			commit += "+modified"
		}
		line += " commit " + commit
		if at != "" {
			line += " " + at
		}
	} else {
		line += " commit unknown"
	}
	return fmt.Sprintf("%s %s", line, goVersion)
}
