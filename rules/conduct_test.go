package rules

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// fakeLookup is a plain-struct Lookup that counts what it is asked.
type fakeLookup struct {
	url   string
	err   error
	calls int
}

func (f *fakeLookup) CodeOfConductURL(context.Context) (string, error) {
	f.calls++
	return f.url, f.err
}

func (f *fakeLookup) Permission(context.Context, string) (string, error) { return "read", nil }

var _ Lookup = (*fakeLookup)(nil)

func TestCodeOfConduct(t *testing.T) {
	const (
		repo = "Codertocat/Hello-World"
		url  = "https://example.org/conduct"
	)
	newcomer := func(e *github.IssuesEvent) {
		e.Issue.AuthorAssociation = github.String("NONE")
		e.Issue.User = user("newbie")
		e.Sender = user("newbie")
	}
	said := func(login, body string) Event {
		return comment(t, "created.json", func(e *github.IssueCommentEvent) {
			e.Comment.User = user(login)
			e.Comment.Body = github.String(body)
			e.Sender = user(login)
		})
	}
	const commentURL = "https://github.com/Codertocat/Hello-World/issues/1#issuecomment-492700400"
	builtin := "the built-in phrase list (insult addressed to someone)"
	reminder := func(login, match string) Action {
		return Action{Rule: RuleCodeOfConduct, Type: Comment, Repo: repo, Number: 1, Key: "reminder-" + login,
			Body: reminderBody(login, url), Reason: "@" + login + "'s comment matches " + match + ": first reminder for them on this issue"}
	}
	notify := func(login, match string) Action {
		return Action{Rule: RuleCodeOfConduct, Type: Notify, Repo: repo, Number: 1, Channel: RouteConduct,
			Text:   "Possible code of conduct problem on " + repo + "#1: @" + login + "'s comment matches " + match + ". " + commentURL,
			Reason: "@" + login + "'s comment matches " + match + ": maintainers should look"}
	}
	welcome := Action{Rule: RuleCodeOfConduct, Type: Comment, Repo: repo, Number: 1, Key: "welcome",
		Body: welcomeBody("newbie", url), Reason: "@newbie opened their first issue in this repository"}
	triage := Action{Rule: RuleNeedsTriage, Type: AddLabels, Repo: repo, Number: 1, Labels: []string{"needs-triage"},
		Reason: "new issue: waiting for a maintainer to triage it"}

	tests := []struct {
		name   string
		give   Event
		config func(*Config)
		memory Memory
		repo   RepoMemory
		want   []Action
	}{
		{name: "first issue from a newcomer", give: issues(t, "opened.json", newcomer), want: []Action{triage, welcome}},
		{name: "not their first issue", give: issues(t, "opened.json", newcomer), repo: RepoMemory{Authors: []string{"NewBie"}}, want: []Action{triage}},
		{
			// The event that recorded this issue as their first, tried again after a failure.
			name: "their first issue, recorded", give: issues(t, "opened.json", newcomer),
			repo: RepoMemory{Authors: []string{"newbie"}, FirstIssues: map[string]int{"newbie": 1}}, want: []Action{triage, welcome},
		},
		{
			// Another of their issues, opened at the same time, was recorded first.
			name: "another issue recorded first", give: issues(t, "opened.json", newcomer),
			repo: RepoMemory{Authors: []string{"newbie"}, FirstIssues: map[string]int{"newbie": 2}}, want: []Action{triage},
		},
		{name: "owners are not welcomed", give: issues(t, "opened.json", nil), want: []Action{triage}},
		{name: "welcome off", give: issues(t, "opened.json", newcomer), config: func(c *Config) { c.CodeOfConduct.WelcomeFirstTime = false }, want: []Action{triage}},
		{name: "rule off", give: issues(t, "opened.json", newcomer), config: func(c *Config) { c.CodeOfConduct.Enabled = false }, want: []Action{triage}},
		{name: "a friendly comment", give: said("fan", "Thanks, this would help us a lot!")},
		{name: "a hostile comment", give: said("troll", "You are an idiot."), want: []Action{reminder("troll", builtin), notify("troll", builtin)}},
		{
			name: "one reminder per user per issue", give: said("troll", "You are an idiot."), memory: Memory{Reminded: []string{"troll"}},
			want: []Action{notify("troll", builtin)},
		},
		{
			name: "another user on the same issue", give: said("other", "you're a moron"), memory: Memory{Reminded: []string{"troll"}},
			want: []Action{reminder("other", builtin), notify("other", builtin)},
		},
		{
			name: "reply private: only the maintainers hear", give: said("troll", "You are an idiot."),
			config: func(c *Config) { c.CodeOfConduct.Reply = ReplyPrivate },
			want:   []Action{privately(notify("troll", builtin))},
		},
		{name: "built-in list off", give: said("troll", "You are an idiot."), config: func(c *Config) { c.CodeOfConduct.BuiltinPatterns = false }},
		{
			name: "configured pattern", give: said("spammer", "Buy cheap watches at example.com"),
			config: func(c *Config) { c.CodeOfConduct.Patterns = []string{`cheap\s+watches`} },
			want:   []Action{reminder("spammer", `the configured pattern "cheap\\s+watches"`), notify("spammer", `the configured pattern "cheap\\s+watches"`)},
		},
		{name: "another app's comment", give: comment(t, "created.json", func(e *github.IssueCommentEvent) {
			e.Comment.User = &github.User{Login: github.String("spam-filter[bot]"), Type: github.String("Bot")}
			e.Comment.Body = github.String("Hidden a comment saying: you are an idiot")
		})},
		{name: "technical language", give: said("dev", "Kill the process, then execute the script again; it aborts on a dumb terminal.")},
		{
			name: "edited into hostility", want: []Action{reminder("troll", builtin), notify("troll", builtin)},
			give: comment(t, "edited.json", func(e *github.IssueCommentEvent) {
				e.Comment.User = user("troll")
				e.Comment.Body = github.String("You are an idiot.")
			}),
		},
		{
			name: "an edit of a comment already answered",
			give: comment(t, "edited.json", func(e *github.IssueCommentEvent) {
				e.Comment.Body = github.String("You are an idiot!!")
				e.Changes.Body.From = github.String("You are an idiot.")
			}),
		},
		{
			name: "an issue edited into hostility", give: issues(t, "edited.json", func(e *github.IssuesEvent) {
				e.Issue.Body = github.String("stfu")
				e.Changes.Body = &github.EditBody{From: github.String("It looks like you accidently spelled 'commit' with two 't's.")}
			}),
			want: []Action{
				{Rule: RuleCodeOfConduct, Type: Comment, Repo: repo, Number: 1, Key: "reminder-codertocat", Body: reminderBody("Codertocat", url),
					Reason: "@Codertocat's issue matches the built-in phrase list (profanity aimed at someone): first reminder for them on this issue"},
				{Rule: RuleCodeOfConduct, Type: Notify, Repo: repo, Number: 1, Channel: RouteConduct,
					Text:   "Possible code of conduct problem on " + repo + "#1: @Codertocat's issue matches the built-in phrase list (profanity aimed at someone). https://github.com/Codertocat/Hello-World/issues/1",
					Reason: "@Codertocat's issue matches the built-in phrase list (profanity aimed at someone): maintainers should look"},
			},
		},
		{name: "an issue edit that changed nothing hostile", give: issues(t, "edited.json", nil)},
		{
			name: "a hostile issue", give: issues(t, "opened.json", func(e *github.IssuesEvent) {
				e.Issue.Body = github.String("The devs are clueless idiots and this project is dead")
			}),
			want: []Action{triage,
				{Rule: RuleCodeOfConduct, Type: Comment, Repo: repo, Number: 1, Key: "reminder-codertocat", Body: reminderBody("Codertocat", url),
					Reason: "@Codertocat's issue matches the built-in phrase list (insult addressed to the project's people): first reminder for them on this issue"},
				{Rule: RuleCodeOfConduct, Type: Notify, Repo: repo, Number: 1, Channel: RouteConduct,
					Text:   "Possible code of conduct problem on " + repo + "#1: @Codertocat's issue matches the built-in phrase list (insult addressed to the project's people). https://github.com/Codertocat/Hello-World/issues/1",
					Reason: "@Codertocat's issue matches the built-in phrase list (insult addressed to the project's people): maintainers should look"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.CodeOfConduct.URL = url
			if tt.config != nil {
				tt.config(&cfg)
			}
			out := evaluate(t, tt.give, cfg, tt.memory, tt.repo)
			if diff := cmp.Diff(tt.want, out.Actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCodeOfConductLink(t *testing.T) {
	ev := comment(t, "created.json", func(e *github.IssueCommentEvent) { e.Comment.Body = github.String("stfu") })
	tests := []struct {
		name       string
		configured string
		lookup     *fakeLookup
		want       string
		wantCalls  int
	}{
		{name: "configured", configured: "https://example.org/coc", lookup: &fakeLookup{url: "https://x/CODE_OF_CONDUCT.md"}, want: "https://example.org/coc"},
		{name: "the repository's", lookup: &fakeLookup{url: "https://github.com/o/r/blob/main/CODE_OF_CONDUCT.md"}, want: "https://github.com/o/r/blob/main/CODE_OF_CONDUCT.md", wantCalls: 1},
		{name: "none anywhere", lookup: &fakeLookup{}, want: communityGuidelines, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.CodeOfConduct.URL = tt.configured
			out, err := Evaluate(context.Background(), Input{Event: ev, Config: cfg, BotLogin: testBot, Lookup: tt.lookup})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Actions) == 0 || !cmp.Equal(out.Actions[0].Type, Comment) {
				t.Fatalf("got %+v, want a reminder first", out.Actions)
			}
			if got := out.Actions[0].Body; !strings.Contains(got, "("+tt.want+")") {
				t.Errorf("body %q does not link %s", got, tt.want)
			}
			if tt.lookup.calls != tt.wantCalls {
				t.Errorf("Lookup asked %d times, want %d", tt.lookup.calls, tt.wantCalls)
			}
		})
	}
	t.Run("lookup fails", func(t *testing.T) {
		boom := errors.New("boom")
		mem := Memory{Commenters: map[string]int{"x": 1}}
		out, err := Evaluate(context.Background(), Input{Event: ev, Config: DefaultConfig(), Memory: mem, BotLogin: testBot, Lookup: &fakeLookup{err: boom}})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
		if diff := cmp.Diff(mem, out.Memory); diff != "" || len(out.Actions) != 0 {
			t.Errorf("a failed lookup must leave memory as it was and act on nothing: %s %+v", diff, out.Actions)
		}
	})
}

// privately marks a notification private (never through a github channel).
func privately(a Action) Action {
	a.Private = true
	return a
}
