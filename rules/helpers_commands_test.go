package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// TestCommandHelpers covers what the commands of issue 5 (/triage, /needs-triage, /priority)
// call inside the rules.
func TestCommandHelpers(t *testing.T) {
	const repo = "Codertocat/Hello-World"
	commented := func(n int, names ...string) Event {
		return comment(t, "created.json", func(e *github.IssueCommentEvent) {
			e.Issue.Comments = github.Int(n)
			e.Issue.Labels = labels(names...)
			e.Sender = user("maintainer")
		})
	}
	tests := []struct {
		name       string
		give       Event
		memory     Memory
		run        func(e *eval)
		want       []Action
		wantMemory Memory
	}{
		{
			name: "/triage", give: commented(0, "needs-triage"), memory: Memory{BotLabels: []string{"needs-triage"}},
			run:        func(e *eval) { e.triaged("command", "@maintainer ran /triage") },
			want:       []Action{{Rule: "command", Type: RemoveLabel, Repo: repo, Number: 1, Label: "needs-triage", Reason: "@maintainer ran /triage"}},
			wantMemory: Memory{BotLabels: []string{}, Triaged: true},
		},
		{
			name: "/needs-triage after a human removed it", give: commented(0), memory: Memory{HumanRemoved: []string{"needs-triage"}, Triaged: true},
			run:        func(e *eval) { e.needsTriageAgain("command", "@maintainer ran /needs-triage") },
			want:       []Action{{Rule: "command", Type: AddLabels, Repo: repo, Number: 1, Labels: []string{"needs-triage"}, Reason: "@maintainer ran /needs-triage"}},
			wantMemory: Memory{HumanRemoved: []string{}, BotLabels: []string{"needs-triage"}},
		},
		{
			name: "/priority high", give: commented(4, "priority: low"), memory: Memory{BotLabels: []string{"priority: low"}},
			run: func(e *eval) { e.setPriority("command", 0, "@maintainer ran /priority high") },
			want: []Action{
				{Rule: "command", Type: RemoveLabel, Repo: repo, Number: 1, Label: "priority: low", Reason: "@maintainer ran /priority high"},
				{Rule: "command", Type: AddLabels, Repo: repo, Number: 1, Labels: []string{"priority: high"}, Reason: "@maintainer ran /priority high"},
			},
			wantMemory: Memory{BotLabels: []string{"priority: high"}, PriorityManual: true},
		},
		{
			name: "/priority none hands it back to the comment count", give: commented(11, "priority: high"), memory: Memory{PriorityManual: true},
			run: func(e *eval) { e.releasePriority("command", "@maintainer ran /priority none") },
			want: []Action{
				{Rule: "command", Type: RemoveLabel, Repo: repo, Number: 1, Label: "priority: high", Reason: `@maintainer ran /priority none; 11 comments: lowered to "priority: medium"`},
				{Rule: "command", Type: AddLabels, Repo: repo, Number: 1, Labels: []string{"priority: medium"}, Reason: `@maintainer ran /priority none; 11 comments: reaches "priority: medium" (at 10)`},
			},
			wantMemory: Memory{BotLabels: []string{"priority: medium"}},
		},
		{
			name: "/priority none keeps a label the score calls for, now the bot's", give: commented(11, "priority: medium"), memory: Memory{PriorityManual: true},
			run:        func(e *eval) { e.releasePriority("command", "@maintainer ran /priority none") },
			wantMemory: Memory{BotLabels: []string{"priority: medium"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEval(Input{Event: tt.give, Config: DefaultConfig(), Memory: tt.memory, BotLogin: testBot})
			tt.run(e)
			if diff := cmp.Diff(tt.want, e.actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMemory, e.mem); diff != "" {
				t.Errorf("memory (-want +got):\n%s", diff)
			}
		})
	}
}
