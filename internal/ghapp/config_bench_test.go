//go:build unix

package ghapp

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/triagebot/triagebot/internal/lru"
	"github.com/triagebot/triagebot/rules"
)

// bigConfig is a valid configuration of about size bytes: code-of-conduct patterns.
func bigConfig(size int) string {
	var b strings.Builder
	b.WriteString("code_of_conduct:\n  patterns:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "    - '\\bsome hostile phrase number %d\\b'\n", i)
	}
	return b.String()
}

// BenchmarkConfigPerEvent is the configuration's cost per event with a 200 KB file: "cached"
// is the loader as it runs (parsed once per version of the file), "parsed" what every event
// cost before the parsed configuration was kept (the file parsed, its patterns compiled).
//
//	go test -run '^$' -bench BenchmarkConfigPerEvent -benchtime 200x ./internal/ghapp/
func BenchmarkConfigPerEvent(b *testing.B) {
	for _, mode := range []string{"cached", "parsed"} {
		b.Run(mode, func(b *testing.B) {
			g := newGHServer(b)
			body := bigConfig(200 << 10)
			f := &files{files: map[string]string{"o/r/.github/triagebot.yml": body}}
			f.register(g)
			l, _ := newLoader(b, g)
			ctx := context.Background()
			target := rules.Target{InstallationID: 5, RepoID: 1, Owner: "o", Name: "r"}
			cfg, err := l.Config(ctx, target)
			if err != nil || len(cfg.CodeOfConduct.Patterns) < 3000 {
				b.Fatalf("config: %d patterns, %v", len(cfg.CodeOfConduct.Patterns), err)
			}
			b.ReportAllocs()
			cpu0 := processCPU()
			b.ResetTimer()
			for b.Loop() {
				if mode == "parsed" {
					l.parsed = lru.New[string, LoadedConfig](parsedConfigs)
				}
				if _, err := l.Config(ctx, target); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
		})
	}
}

// processCPU is the CPU time (user and system) the process has used: the loader, the embedded
// NATS server and the test's GitHub together.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
