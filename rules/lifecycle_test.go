package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
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

// A person's comment on an issue carrying the stale label takes the label off even when the
// memory does not say it is stale yet (the check that put it on had not stored its memory).
func TestActivityTakesTheStaleLabelOffWhateverTheMemorySays(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lifecycle.Enabled = true
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := comment(t, "created.json", func(e *github.IssueCommentEvent) {
		e.Issue.Labels = labels("bug", "lifecycle/stale")
		e.Comment.CreatedAt = &github.Timestamp{Time: t0.Add(time.Hour)}
		e.Comment.UpdatedAt = e.Comment.CreatedAt
		e.Sender, e.Comment.User = user("bob"), user("bob")
	})
	out := evaluate(t, ev, cfg, Memory{LastActivity: t0}, RepoMemory{})
	var removed []string
	for _, a := range out.Actions {
		if a.Type == RemoveLabel {
			removed = append(removed, a.Label)
		}
	}
	if diff := cmp.Diff([]string{"lifecycle/stale"}, removed); diff != "" {
		t.Errorf("labels removed (-want +got):\n%s", diff)
	}
	if !out.Memory.LastActivity.Equal(t0.Add(time.Hour)) || !out.Memory.StaleSince.IsZero() {
		t.Errorf("memory: last activity %s, stale since %s", out.Memory.LastActivity, out.Memory.StaleSince)
	}
}

// What a lifecycle check did is applied on the memory an event stored meanwhile: the bot's own
// comment event keeps the stale mark; a person's activity drops it, and the label comes off.
func TestLifecycleRebase(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lifecycle.Enabled = true
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stale := t0.Add(60 * 24 * time.Hour)
	before := Memory{LastActivity: t0, BotLabels: []string{"priority: low"}}
	after := Memory{LastActivity: t0, BotLabels: []string{"priority: low", "lifecycle/stale"}, StaleSince: stale, StaleCycle: 1,
		BotComments: []string{"lifecycle:stale-1"}, BotCommentIDs: map[string]int64{"lifecycle:stale-1": 77}}
	tests := []struct {
		name     string
		current  Memory
		want     Memory
		wantUndo []Action
	}{
		{
			name:    "the bot's own comment came back as an event",
			current: Memory{LastActivity: t0, BotLabels: []string{"priority: low"}, BotComments: []string{"id:77"}},
			want: Memory{LastActivity: t0, BotLabels: []string{"priority: low", "lifecycle/stale"}, StaleSince: stale, StaleCycle: 1,
				BotComments: []string{"id:77", "lifecycle:stale-1"}, BotCommentIDs: map[string]int64{"lifecycle:stale-1": 77}},
		},
		{
			name:    "a person commented meanwhile",
			current: Memory{LastActivity: stale.Add(time.Minute), BotLabels: []string{"priority: low"}, Commenters: map[string]int{"bob": 1}},
			want: Memory{LastActivity: stale.Add(time.Minute), BotLabels: []string{"priority: low"}, StaleCycle: 1, Commenters: map[string]int{"bob": 1},
				BotComments: []string{"lifecycle:stale-1"}, BotCommentIDs: map[string]int64{"lifecycle:stale-1": 77}},
			wantUndo: []Action{{Rule: RuleLifecycle, Type: RemoveLabel, Label: "lifecycle/stale", Reason: "there was activity on the issue while it was being marked stale"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, undo := LifecycleRebase(cfg, before, after, tt.current)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("memory (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantUndo, undo); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}
