package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// TestNoFalseTriage covers issue 12 §3: who and what counts as triage, and needs-triage's
// leftovers on closed issues.
func TestNoFalseTriage(t *testing.T) {
	remove := func(reason string) Action {
		return Action{Rule: RuleNeedsTriage, Type: RemoveLabel, Repo: "Codertocat/Hello-World", Number: 1, Label: "needs-triage", Reason: reason}
	}
	botUser := func(login string) *github.User {
		return &github.User{Login: github.String(login), Type: github.String("Bot")}
	}
	// labeled: the issue (by reporter, an hour old) carries needs-triage; sender adds label.
	labeled := func(label string, sender *github.User) func(*github.IssuesEvent) {
		return func(e *github.IssuesEvent) {
			e.Issue.User = user("reporter")
			e.Issue.AuthorAssociation = github.String("NONE")
			e.Issue.CreatedAt = &github.Timestamp{Time: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
			e.Issue.UpdatedAt = &github.Timestamp{Time: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)}
			e.Issue.Labels = labels("needs-triage", label)
			e.Label = &github.Label{Name: github.String(label)}
			e.Sender = sender
		}
	}
	assigned := func(sender *github.User) func(*github.IssuesEvent) {
		return func(e *github.IssuesEvent) {
			labeled("x", sender)(e)
			e.Action = github.String("assigned")
			e.Label = nil
			e.Issue.Labels = labels("needs-triage")
			e.Assignee = user("dev")
		}
	}
	seen := Memory{OpenedAt: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), BotLabels: []string{"needs-triage"}}
	tests := []struct {
		name   string
		give   Event
		config func(*Config)
		memory Memory
		want   []Action
	}{
		{
			name: "an auto-labeller (github-actions[bot]) is not triage", memory: seen,
			give: issues(t, "labeled.json", labeled("area: api", botUser("github-actions[bot]"))),
		},
		{
			name: "an App's assignment is not triage", memory: seen,
			give: issues(t, "labeled.json", assigned(botUser("some-app[bot]"))),
		},
		{
			name: "a bot listed in triage_bots triages", memory: seen,
			give:   issues(t, "labeled.json", labeled("area: api", botUser("github-actions[bot]"))),
			config: func(c *Config) { c.NeedsTriage.TriageBots = []string{"GitHub-Actions[bot]"} },
			want:   []Action{remove(`@github-actions[bot] labelled the issue "area: api": it has been triaged`)},
		},
		{
			name: "a person labelling triages", memory: seen,
			give: issues(t, "labeled.json", labeled("area: api", user("maintainer"))),
			want: []Action{remove(`@maintainer labelled the issue "area: api": it has been triaged`)},
		},
		{
			name: "a template label arriving before opened is not triage, even from a maintainer",
			give: issues(t, "labeled.json", func(e *github.IssuesEvent) {
				labeled("feature request", user("maya"))(e)
				e.Issue.User = user("maya")
				e.Issue.AuthorAssociation = github.String("MEMBER")
				e.Issue.UpdatedAt = e.Issue.CreatedAt
			}),
		},
		{
			name:   "the author (a maintainer) labelling later is triage",
			memory: Memory{OpenedAt: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), BotLabels: []string{"needs-triage"}},
			give: issues(t, "labeled.json", func(e *github.IssuesEvent) {
				labeled("bug", user("maya"))(e)
				e.Issue.User = user("maya")
				e.Issue.AuthorAssociation = github.String("MEMBER")
			}),
			want: []Action{remove(`@maya labelled the issue "bug": it has been triaged`)},
		},
		{
			name: "closing takes needs-triage off",
			give: issues(t, "closed.json", func(e *github.IssuesEvent) { e.Issue.Labels = labels("needs-triage", "bug") }),
			want: []Action{{Rule: RuleNeedsTriage, Type: RemoveLabel, Repo: "catppuccin-rfc/polybar", Number: 13, Label: "needs-triage",
				Reason: "issue closed: no longer waiting for triage"}},
		},
		{
			name:   "closing keeps it with remove_on_close: false",
			give:   issues(t, "closed.json", func(e *github.IssuesEvent) { e.Issue.Labels = labels("needs-triage") }),
			config: func(c *Config) { c.NeedsTriage.RemoveOnClose = false },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.config != nil {
				tt.config(&cfg)
			}
			out := evaluate(t, tt.give, cfg, tt.memory, RepoMemory{})
			var got []Action
			for _, a := range out.Actions {
				if a.Rule == RuleNeedsTriage {
					got = append(got, a)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCloseAndReopen: closing takes needs-triage off as the bot's doing, so reopening puts it
// back; had a human taken it off, reopening does not.
func TestCloseAndReopen(t *testing.T) {
	closed := issues(t, "closed.json", func(e *github.IssuesEvent) { e.Issue.Labels = labels("needs-triage") })
	out := evaluate(t, closed, DefaultConfig(), Memory{BotLabels: []string{"needs-triage"}}, RepoMemory{})
	reopened := issues(t, "reopened.json", func(e *github.IssuesEvent) { e.Issue.Labels = nil })
	again := evaluate(t, reopened, DefaultConfig(), out.Memory, RepoMemory{})
	if len(again.Actions) == 0 || again.Actions[0].Type != AddLabels {
		t.Errorf("reopening after the bot's removal: %+v", again.Actions)
	}
	human := evaluate(t, reopened, DefaultConfig(), Memory{HumanRemoved: []string{"needs-triage"}}, RepoMemory{})
	for _, a := range human.Actions {
		if a.Type == AddLabels {
			t.Errorf("reopening after a human's removal adds %v", a.Labels)
		}
	}
}
