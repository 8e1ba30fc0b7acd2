package main

import (
	"fmt"
	"runtime/debug"
)

// version and commit are stamped by the release build:
// go build -ldflags "-X main.version=v1.2.3 -X main.commit=abc123" (deploy/Dockerfile).
var version, commit string

// build is what the binary knows of itself: the stamped values, else Go's build information.
type build struct {
	Version, Commit, Time, GoVersion string
	Modified                         bool
}

func buildOf() build {
	b := build{Version: version, Commit: commit, GoVersion: "unknown Go"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.GoVersion = bi.GoVersion
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			case "vcs.time":
				b.Time = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}

// versionCmd prints the version.
type versionCmd struct{}

func (c *versionCmd) Run(o streams) error {
	fmt.Fprintln(o.stdout, versionLine())
	return nil
}

// versionLine is "triagebot VERSION (commit C, built DATE, go1.x)" from the link-time version
// and the build information Go records in the binary.
func versionLine() string {
	b := buildOf()
	line := "triagebot " + b.Version
	if c := b.Commit; c != "" {
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Modified {
			c += "+modified"
		}
		line += " commit " + c
		if b.Time != "" {
			line += " " + b.Time
		}
	} else {
		line += " commit unknown"
	}
	return fmt.Sprintf("%s %s", line, b.GoVersion)
}
