package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

func TestNeedsTriage(t *testing.T) {
	const repo = "Codertocat/Hello-World"
	add := Action{Rule: RuleNeedsTriage, Type: AddLabels, Repo: repo, Number: 1, Labels: []string{"needs-triage"},
		Reason: "new issue: waiting for a maintainer to triage it"}
	remove := func(reason string) Action {
		return Action{Rule: RuleNeedsTriage, Type: RemoveLabel, Repo: repo, Number: 1, Label: "needs-triage", Reason: reason}
	}
	withLabels := func(names ...string) func(*github.IssuesEvent) {
		return func(e *github.IssuesEvent) { e.Issue.Labels = labels(names...) }
	}
	// labeled: the issue carries needs-triage and bug; a label is added by sender.
	labeled := func(label, sender, association string) func(*github.IssuesEvent) {
		return func(e *github.IssuesEvent) {
			e.Issue.Labels = labels("needs-triage", "bug", label)
			e.Issue.AuthorAssociation = github.String(association)
			e.Label = &github.Label{Name: github.String(label)}
			e.Sender = user(sender)
		}
	}
	tests := []struct {
		name   string
		give   Event
		config func(*Config)
		memory Memory
		want   []Action
	}{
		{name: "opened", give: issues(t, "opened.json", nil), want: []Action{add}},
		{name: "opened with an empty body", give: issues(t, "opened.with-empty-body.json", nil), want: []Action{add}},
		{name: "opened already labelled", give: issues(t, "opened.json", withLabels("bug", "Needs-Triage"))},
		{name: "opened, disabled", give: issues(t, "opened.json", nil), config: func(c *Config) { c.NeedsTriage.Enabled = false }},
		{
			name: "opened, other label name", give: issues(t, "opened.json", nil),
			config: func(c *Config) { c.NeedsTriage.Label = "triage/needed" },
			want:   []Action{{Rule: RuleNeedsTriage, Type: AddLabels, Repo: repo, Number: 1, Labels: []string{"triage/needed"}, Reason: add.Reason}},
		},
		{
			name: "pull requests are not triaged", give: issues(t, "opened.json", func(e *github.IssuesEvent) {
				e.Issue.PullRequestLinks = &github.PullRequestLinks{URL: github.String("https://api.github.com/repos/o/r/pulls/1")}
			}),
		},
		{
			name: "reopened", give: issues(t, "reopened.json", withLabels()),
			want: []Action{{Rule: RuleNeedsTriage, Type: AddLabels, Repo: repo, Number: 1, Labels: []string{"needs-triage"},
				Reason: "issue reopened: waiting for a maintainer to triage it again"}},
		},
		{name: "opened late, after a maintainer's triage was handled (a redelivery)", give: issues(t, "opened.json", nil), memory: Memory{Triaged: true}},
		{name: "reopened after a human removed the label", give: issues(t, "reopened.json", withLabels()), memory: Memory{HumanRemoved: []string{"needs-triage"}}},
		{
			name: "maintainer adds a label", give: issues(t, "labeled.json", labeled("enhancement", "maintainer", "NONE")),
			want: []Action{remove(`@maintainer labelled the issue "enhancement": it has been triaged`)},
		},
		{name: "label matching not_triage_labels", give: issues(t, "labeled.json", labeled("priority: high", "maintainer", "NONE"))},
		{name: "not_triage_labels match any case", give: issues(t, "labeled.json", labeled("PRIORITY: Low", "maintainer", "NONE"))},
		{
			name: "configured not_triage_labels", give: issues(t, "labeled.json", labeled("area/docs", "maintainer", "NONE")),
			config: func(c *Config) { c.NeedsTriage.NotTriageLabels = []string{"area/.*"} },
		},
		{
			name: "template label from an author who cannot label", give: issues(t, "labeled.json", labeled("enhancement", "Codertocat", "NONE")),
		},
		{
			name: "template label the issue was opened with", give: issues(t, "labeled.json", labeled("bug", "Codertocat", "OWNER")),
			memory: Memory{OpenedLabels: []string{"bug"}},
		},
		{
			name: "an owner labelling their own issue later triages it", give: issues(t, "labeled.json", labeled("enhancement", "Codertocat", "OWNER")),
			memory: Memory{OpenedLabels: []string{"bug"}},
			want:   []Action{remove(`@Codertocat labelled the issue "enhancement": it has been triaged`)},
		},
		{name: "a human adds needs-triage back", give: issues(t, "labeled.json", labeled("needs-triage", "maintainer", "NONE")), memory: Memory{HumanRemoved: []string{"needs-triage"}}},
		{
			name: "labelled when needs-triage is already gone", give: issues(t, "labeled.json", func(e *github.IssuesEvent) {
				e.Sender = user("maintainer")
			}),
		},
		{
			name: "a human removes needs-triage", give: issues(t, "unlabeled.json", func(e *github.IssuesEvent) {
				e.Label = &github.Label{Name: github.String("needs-triage")}
				e.Sender = user("maintainer")
			}),
		},
		{
			name: "assigned", give: issues(t, "opened.json", func(e *github.IssuesEvent) {
				e.Action = github.String("assigned")
				e.Issue.Labels = labels("needs-triage")
				e.Assignee = user("helper")
				e.Sender = user("maintainer")
			}),
			want: []Action{remove("@maintainer assigned the issue to @helper: it has been triaged")},
		},
		{
			name: "assigned, remove_on_assign off", config: func(c *Config) { c.NeedsTriage.RemoveOnAssign = false },
			give: issues(t, "opened.json", func(e *github.IssuesEvent) {
				e.Action = github.String("assigned")
				e.Issue.Labels = labels("needs-triage")
				e.Assignee = user("helper")
				e.Sender = user("maintainer")
			}),
		},
		{
			name: "assigned by the author's template", memory: Memory{OpenedAssignees: []string{"Codertocat"}},
			give: issues(t, "opened.json", func(e *github.IssuesEvent) {
				e.Action = github.String("assigned")
				e.Issue.Labels = labels("needs-triage")
				e.Assignee = user("Codertocat")
			}),
		},
		{
			name: "the bot's own label events trigger nothing", give: issues(t, "labeled.json", labeled("enhancement", testBot, "NONE")),
		},
		{name: "edited", give: issues(t, "edited.json", withLabels("needs-triage"))},
		{name: "closed", give: issues(t, "closed.json", withLabels("needs-triage")), want: []Action{{Rule: RuleNeedsTriage, Type: RemoveLabel,
			Repo: "catppuccin-rfc/polybar", Number: 13, Label: "needs-triage", Reason: "issue closed: no longer waiting for triage"}}},
		{name: "closed, remove_on_close off", give: issues(t, "closed.json", withLabels("needs-triage")), config: func(c *Config) { c.NeedsTriage.RemoveOnClose = false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.config != nil {
				tt.config(&cfg)
			}
			out := evaluate(t, tt.give, cfg, tt.memory, RepoMemory{Authors: []string{"codertocat"}})
			if diff := cmp.Diff(tt.want, out.Actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNeedsTriageProvenance: the memory records who did what with the label.
func TestNeedsTriageProvenance(t *testing.T) {
	cfg := DefaultConfig()
	opened := evaluate(t, issues(t, "opened.json", nil), cfg, Memory{}, RepoMemory{})
	if diff := cmp.Diff([]string{"needs-triage"}, opened.Memory.BotLabels); diff != "" {
		t.Errorf("bot labels after opening (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bug"}, opened.Memory.OpenedLabels); diff != "" {
		t.Errorf("opened labels (-want +got):\n%s", diff)
	}
	removed := evaluate(t, issues(t, "unlabeled.json", func(e *github.IssuesEvent) {
		e.Label = &github.Label{Name: github.String("needs-triage")}
		e.Sender = user("maintainer")
	}), cfg, opened.Memory, opened.Repo)
	if diff := cmp.Diff([]string{"needs-triage"}, removed.Memory.HumanRemoved); diff != "" {
		t.Errorf("human removed (-want +got):\n%s", diff)
	}
	if len(removed.Memory.BotLabels) != 0 {
		t.Errorf("bot labels = %q, want none", removed.Memory.BotLabels)
	}
	reopened := evaluate(t, issues(t, "reopened.json", func(e *github.IssuesEvent) { e.Issue.Labels = nil }), cfg, removed.Memory, removed.Repo)
	if len(reopened.Actions) != 0 {
		t.Errorf("reopening after a human removed the label: %+v, want nothing", reopened.Actions)
	}
	readded := evaluate(t, issues(t, "labeled.json", func(e *github.IssuesEvent) {
		e.Label = &github.Label{Name: github.String("needs-triage")}
		e.Sender = user("maintainer")
	}), cfg, reopened.Memory, reopened.Repo)
	if len(readded.Memory.HumanRemoved) != 0 || len(readded.Actions) != 0 {
		t.Errorf("a human adding it back: memory %+v, actions %+v; want the removal forgotten and no action", readded.Memory, readded.Actions)
	}
}
