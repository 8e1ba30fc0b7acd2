package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

func TestPickLevel(t *testing.T) {
	levels := DefaultConfig().Priority.Levels // high 20, medium 10, low 3; 3 means none
	tests := []struct {
		name       string
		score, cur int
		hysteresis int
		want       int
	}{
		{name: "nothing yet", score: 2, cur: 3, hysteresis: 2, want: 3},
		{name: "reaches low", score: 3, cur: 3, hysteresis: 2, want: 2},
		{name: "jumps straight to high", score: 25, cur: 3, hysteresis: 2, want: 0},
		{name: "stays medium", score: 12, cur: 1, hysteresis: 2, want: 1},
		{name: "just below medium, within hysteresis", score: 9, cur: 1, hysteresis: 2, want: 1},
		{name: "at the hysteresis margin", score: 8, cur: 1, hysteresis: 2, want: 1},
		{name: "beyond the margin drops to low", score: 7, cur: 1, hysteresis: 2, want: 2},
		{name: "far below drops to none", score: 0, cur: 1, hysteresis: 2, want: 3},
		{name: "low held within the margin", score: 1, cur: 2, hysteresis: 2, want: 2},
		{name: "no hysteresis drops at once", score: 9, cur: 1, hysteresis: 0, want: 2},
		{name: "from high, lands where the margin still holds", score: 9, cur: 0, hysteresis: 2, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickLevel(levels, tt.hysteresis, tt.score, tt.cur); got != tt.want {
				t.Errorf("pickLevel(score %d, cur %d, h %d) = %d, want %d", tt.score, tt.cur, tt.hysteresis, got, tt.want)
			}
		})
	}
}

func TestPriority(t *testing.T) {
	const repo = "Codertocat/Hello-World"
	act := func(typ ActionType, label, reason string) Action {
		a := Action{Rule: RulePriority, Type: typ, Repo: repo, Number: 1, Reason: reason}
		if typ == AddLabels {
			a.Labels = []string{label}
		} else {
			a.Label = label
		}
		return a
	}
	// commented: a human comment on the issue, which now has n comments and these labels.
	commented := func(n int, names ...string) Event {
		return comment(t, "created.json", func(e *github.IssueCommentEvent) {
			e.Issue.Comments = github.Int(n)
			e.Issue.Labels = labels(names...)
			e.Comment.User = user("fan")
			e.Sender = user("fan")
		})
	}
	deleted := func(n int, names ...string) Event {
		return comment(t, "deleted.json", func(e *github.IssueCommentEvent) {
			e.Issue.Comments = github.Int(n)
			e.Issue.Labels = labels(names...)
			e.Sender = user("fan")
		})
	}
	bot := Memory{BotLabels: []string{"priority: medium"}}
	tests := []struct {
		name   string
		give   Event
		config func(*Config)
		memory Memory
		want   []Action
	}{
		{name: "below the lowest level", give: commented(2, "bug")},
		{name: "reaches low", give: commented(3, "bug"), want: []Action{act(AddLabels, "priority: low", `3 comments: reaches "priority: low" (at 3)`)}},
		{
			name: "low to medium", give: commented(10, "bug", "priority: low"), memory: Memory{BotLabels: []string{"priority: low"}},
			want: []Action{
				act(RemoveLabel, "priority: low", `10 comments: raised to "priority: medium"`),
				act(AddLabels, "priority: medium", `10 comments: reaches "priority: medium" (at 10)`),
			},
		},
		{name: "same level: no action", give: commented(12, "priority: medium"), memory: bot},
		{name: "deleted within the hysteresis: no flapping", give: deleted(9, "priority: medium"), memory: bot},
		{
			name: "deleted beyond the hysteresis", give: deleted(7, "priority: medium"), memory: bot,
			want: []Action{
				act(RemoveLabel, "priority: medium", `7 comments: lowered to "priority: low"`),
				act(AddLabels, "priority: low", `7 comments: reaches "priority: low" (at 3)`),
			},
		},
		{
			name: "no hysteresis", give: deleted(9, "priority: medium"), memory: bot, config: func(c *Config) { c.Priority.Hysteresis = 0 },
			want: []Action{
				act(RemoveLabel, "priority: medium", `9 comments: lowered to "priority: low"`),
				act(AddLabels, "priority: low", `9 comments: reaches "priority: low" (at 3)`),
			},
		},
		{
			name: "down to none", give: deleted(0, "priority: low"), memory: Memory{BotLabels: []string{"priority: low"}},
			want: []Action{act(RemoveLabel, "priority: low", "0 comments: below every priority level")},
		},
		{
			name: "the bot's own comments do not count", give: commented(4, "bug"), memory: Memory{BotComments: []string{"code-of-conduct:welcome", "id:12"}},
		},
		{name: "a priority a human set is left alone", give: commented(25, "priority: low")},
		{name: "a human took the priority over", give: commented(25), memory: Memory{PriorityManual: true}},
		{
			name: "respect_manual off: exactly one priority label", give: commented(25, "priority: low", "priority: medium"),
			config: func(c *Config) { c.Priority.RespectManual = false },
			want: []Action{
				act(RemoveLabel, "priority: medium", `25 comments: raised to "priority: high"`),
				act(RemoveLabel, "priority: low", `25 comments: raised to "priority: high"`),
				act(AddLabels, "priority: high", `25 comments: reaches "priority: high" (at 20)`),
			},
		},
		{name: "disabled", give: commented(25), config: func(c *Config) { c.Priority.Enabled = false }},
		{name: "closed issue", give: comment(t, "created.json", func(e *github.IssueCommentEvent) {
			e.Issue.State = github.String("closed")
			e.Issue.Comments = github.Int(25)
		})},
		{name: "pull request", give: comment(t, "created.on-pull-request.json", func(e *github.IssueCommentEvent) { e.Issue.Comments = github.Int(25) })},
		{name: "applies_to: issue does not qualify", give: commented(25, "bug"), config: func(c *Config) { c.Priority.AppliesTo = []string{"enhancement|feature.*"} }},
		{
			name: "applies_to: issue qualifies", give: commented(4, "Feature request"), config: func(c *Config) { c.Priority.AppliesTo = []string{"enhancement|feature.*"} },
			want: []Action{act(AddLabels, "priority: low", `4 comments: reaches "priority: low" (at 3)`)},
		},
		{
			name: "applies_to: labelled into scope", config: func(c *Config) { c.Priority.AppliesTo = []string{"enhancement"} },
			give: issues(t, "labeled.json", func(e *github.IssuesEvent) {
				e.Issue.Comments = github.Int(11)
				e.Label = &github.Label{Name: github.String("enhancement")}
				e.Sender = user("maintainer")
			}),
			want: []Action{act(AddLabels, "priority: medium", `11 comments: reaches "priority: medium" (at 10)`)},
		},
		{
			name: "applies_to: labelled out of scope", config: func(c *Config) { c.Priority.AppliesTo = []string{"enhancement"} },
			memory: bot,
			give: issues(t, "unlabeled.json", func(e *github.IssuesEvent) {
				e.Issue.Comments = github.Int(11)
				e.Issue.Labels = labels("enhancement", "priority: medium")
				e.Label = &github.Label{Name: github.String("enhancement")}
				e.Sender = user("maintainer")
			}),
			want: []Action{act(RemoveLabel, "priority: medium", "the issue no longer matches priority.applies_to")},
		},
		{
			name: "participants", config: func(c *Config) { c.Priority.Score = ScoreParticipants },
			give: commented(30), memory: Memory{Commenters: map[string]int{"a": 5, "b": 1}},
			want: []Action{act(AddLabels, "priority: low", `3 people have commented: reaches "priority: low" (at 3)`)},
		},
		{
			name: "comments and reactions", config: func(c *Config) { c.Priority.Score = ScoreCommentsAndReactions },
			give: comment(t, "created.json", func(e *github.IssueCommentEvent) {
				e.Issue.Comments = github.Int(2)
				e.Issue.Reactions.PlusOne = github.Int(8)
			}),
			want: []Action{act(AddLabels, "priority: medium", `2 comments and 8 👍 (score 10): reaches "priority: medium" (at 10)`)},
		},
		{name: "the bot's own comment", give: comment(t, "created.json", func(e *github.IssueCommentEvent) {
			e.Issue.Comments = github.Int(25)
			e.Comment.User = user(testBot)
			e.Sender = user(testBot)
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.config != nil {
				tt.config(&cfg)
			}
			out := evaluate(t, tt.give, cfg, tt.memory, RepoMemory{})
			if diff := cmp.Diff(tt.want, out.Actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPriorityNotifiesRoutes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Notifications.Routes = []Route{{On: RoutePriorityChanged, Level: "high", To: []string{"team"}}}
	give := func(n int) Event {
		return comment(t, "created.json", func(e *github.IssueCommentEvent) { e.Issue.Comments = github.Int(n) })
	}
	if out := evaluate(t, give(4), cfg, Memory{}, RepoMemory{}); len(out.Actions) != 1 {
		t.Errorf("low is not routed: got %+v, want only the label", out.Actions)
	}
	out := evaluate(t, give(20), cfg, Memory{}, RepoMemory{})
	want := Action{Rule: RulePriority, Type: Notify, Repo: "Codertocat/Hello-World", Number: 1, Channel: RoutePriorityChanged,
		Label:  "priority: high",
		Text:   `Codertocat/Hello-World#1 "Spelling error in the README file": priority none → priority: high (20 comments)`,
		Reason: "a notification route asks for priority_changed"}
	if len(out.Actions) != 2 {
		t.Fatalf("got %+v, want a label and a notification", out.Actions)
	}
	if diff := cmp.Diff(want, out.Actions[1]); diff != "" {
		t.Errorf("notification (-want +got):\n%s", diff)
	}
}
