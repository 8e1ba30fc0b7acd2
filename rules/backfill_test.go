package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

func TestBackfill(t *testing.T) {
	const repo = "octo/rocket"
	needsTriage := Action{Rule: RuleNeedsTriage, Type: AddLabels, Repo: repo, Number: 7, Labels: []string{"needs-triage"},
		Reason: "open before the bot was installed and not triaged yet"}
	medium := Action{Rule: RulePriority, Type: AddLabels, Repo: repo, Number: 7, Labels: []string{"priority: medium"},
		Reason: `12 comments: reaches "priority: medium" (at 10)`}
	issue := func(comments int, edit func(*github.Issue)) *github.Issue {
		is := &github.Issue{Number: github.Int(7), State: github.String("open"), Comments: github.Int(comments),
			User: user("alice")}
		if edit != nil {
			edit(is)
		}
		return is
	}
	tests := []struct {
		name   string
		give   *github.Issue
		config func(*Config)
		memory Memory
		want   []Action
	}{
		{name: "untriaged and talked about", give: issue(12, nil), want: []Action{needsTriage, medium}},
		{name: "quiet", give: issue(1, nil), want: []Action{needsTriage}},
		{name: "only a priority label: not triage, priority kept", give: issue(12, func(is *github.Issue) { is.Labels = labels("priority: high") }),
			want: []Action{needsTriage}},
		{name: "labelled by a maintainer: triaged", give: issue(12, func(is *github.Issue) { is.Labels = labels("bug") }), want: []Action{medium}},
		{name: "assigned: triaged", give: issue(0, func(is *github.Issue) { is.Assignees = []*github.User{user("maya")} })},
		{name: "already needs-triage", give: issue(0, func(is *github.Issue) { is.Labels = labels("needs-triage") })},
		{name: "triaged in memory", give: issue(0, nil), memory: Memory{Triaged: true}},
		{name: "closed", give: issue(12, func(is *github.Issue) { is.State = github.String("closed") })},
		{name: "pull request", give: issue(12, func(is *github.Issue) {
			is.PullRequestLinks = &github.PullRequestLinks{URL: github.String("https://api.github.com/repos/o/r/pulls/7")}
		})},
		{name: "rules off", give: issue(12, nil), config: func(c *Config) { c.NeedsTriage.Enabled, c.Priority.Enabled = false, false }},
		{name: "no notification for history", give: issue(12, nil), want: []Action{needsTriage, medium},
			config: func(c *Config) { c.Notifications.Routes = []Route{{On: RoutePriorityChanged, To: []string{"ops"}}} }},
		{name: "participants score: the comment count stands in", give: issue(12, nil), want: []Action{needsTriage, medium},
			config: func(c *Config) { c.Priority.Score = ScoreParticipants }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.config != nil {
				tt.config(&cfg)
			}
			r := &github.Repository{FullName: github.String(repo), Name: github.String("rocket"), Owner: user("octo")}
			out := Backfill(cfg, r, tt.give, tt.memory)
			if diff := cmp.Diff(tt.want, out.Actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}
