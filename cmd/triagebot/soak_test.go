package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A short soak: 300 deliveries over 20 issues in 10 installations, a fifth of them duplicate
// ids, GitHub errors and rate limits, two SIGKILLs of serve. Nothing may be lost, done twice
// or undone. README "Soak" says how to run a long one.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	rep, err := runSoak(context.Background(), soakConfig{Deliveries: 300, Issues: 20, Installations: 10, Duplicates: 0.2,
		KillEvery: 110, ErrorRate: 0.02, LimitEvery: 100, Limit: 2 * time.Minute, Seed: 3, Bin: bin,
		ReconcileEvery: time.Second, ReconcilePace: 10 * time.Millisecond}, &progress)
	var out strings.Builder
	rep.print(&out)
	t.Logf("%s%s", progress.String(), out.String())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kills != 2 || rep.Deliveries < 300 || rep.DuplicatesSent == 0 {
		t.Errorf("the load was not what was asked: %+v", rep)
	}
	if !rep.ok() {
		t.Error("the soak lost, duplicated or undid effects")
	}
}

func TestSoakRejectsBadFlags(t *testing.T) {
	tests := []struct {
		give []string
		want string
	}{
		{[]string{"--deliveries", "0"}, "--deliveries, --issues and --installations must be positive"},
		{[]string{"--duplicates", "1.5"}, "--duplicates and --error-rate must be in [0, 1)"},
		{[]string{"--kill-every=-1"}, "--kill-every and --limit-every must not be negative"},
		{[]string{"--nope"}, "unknown flag --nope"},
	}
	for _, tt := range tests {
		code, _, errOut := runCmd(t, append([]string{"soak"}, tt.give...)...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.give, code, errOut, tt.want)
		}
	}
}
