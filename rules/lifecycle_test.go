package rules

import (
	"testing"
	"time"
)

// TestLifecycleNeverStale: the issues the lifecycle leaves alone however long they idle.
func TestLifecycleNeverStale(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := t0.Add(365 * 24 * time.Hour)
	cfg := DefaultConfig()
	cfg.Lifecycle.Enabled = true
	cfg.Lifecycle.ExemptLabels = []string{"security.*"}
	idle := Memory{LastActivity: t0}
	tests := []struct {
		name string
		is   LifecycleIssue
		mem  Memory
	}{
		{name: "untriaged (escalated by the untriaged notifications instead)", is: LifecycleIssue{Open: true, Labels: []string{"needs-triage"}}, mem: idle},
		{name: "a priority label from comments", is: LifecycleIssue{Open: true, Labels: []string{"priority: low"}}, mem: Memory{LastActivity: t0, BotLabels: []string{"priority: low"}}},
		{name: "assigned", is: LifecycleIssue{Open: true, Assignees: []string{"dev"}}, mem: idle},
		{name: "in a milestone", is: LifecycleIssue{Open: true, Milestone: true}, mem: idle},
		{name: "an exempt label", is: LifecycleIssue{Open: true, Labels: []string{"security-report"}}, mem: idle},
		{name: "frozen", is: LifecycleIssue{Open: true}, mem: Memory{LastActivity: t0, Frozen: true}},
		{name: "closed", is: LifecycleIssue{}, mem: idle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actions, _, next := LifecycleCheck(cfg, tt.mem, tt.is, later)
			if len(actions) != 0 || !next.IsZero() {
				t.Errorf("actions %v, next %s", actions, next)
			}
		})
	}
	// A manual priority label does not protect an issue: only the community's attention does.
	actions, _, _ := LifecycleCheck(cfg, idle, LifecycleIssue{Open: true, Labels: []string{"priority: low"}}, later)
	if len(actions) == 0 {
		t.Error("an issue with a priority label set by hand never went stale")
	}
	// Per-label days: a rule for "question" makes it stale after 7 days.
	cfg.Lifecycle.Rules = []LifecycleRule{{Label: "question", StaleDays: 7, CloseDays: 3}}
	actions, _, next := LifecycleCheck(cfg, idle, LifecycleIssue{Open: true, Labels: []string{"question"}}, t0.Add(7*24*time.Hour))
	if len(actions) == 0 || !next.Equal(t0.Add(10*24*time.Hour)) {
		t.Errorf("per-label days: actions %v, next %s", actions, next)
	}
	if got := cfg.Lifecycle.FirstDue(t0); !got.Equal(t0.Add(7 * 24 * time.Hour)) {
		t.Errorf("first due %s", got)
	}
}
