package rules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// permLookup is a Lookup that knows people's permissions (anyone else has none) and counts the
// questions it is asked, per login.
type permLookup struct {
	perms map[string]string
	url   string
	err   error
	calls map[string]int
}

func (f *permLookup) CodeOfConductURL(context.Context) (string, error) { return f.url, nil }

func (f *permLookup) Permission(_ context.Context, login string) (string, error) {
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[login]++
	if f.err != nil {
		return "", f.err
	}
	if p, ok := f.perms[login]; ok {
		return p, nil
	}
	return "none", nil
}

var _ Lookup = (*permLookup)(nil)

// The people of the command tests, with realistic permissions: an org member has read access
// unless a team gives them more.
func people() *permLookup {
	return &permLookup{url: "https://example.org/conduct", perms: map[string]string{
		"member": "read", "triager": "triage", "collab": "write", "contrib": "read", "reporter": "read",
		"maintainer": "maintain", "owner": "admin",
	}}
}

var associations = map[string]string{
	"owner": "OWNER", "member": "MEMBER", "triager": "MEMBER", "collab": "COLLABORATOR", "maintainer": "MEMBER",
	"contrib": "CONTRIBUTOR", "stranger": "NONE", "reporter": "NONE",
}

const (
	cmdRepo    = "Codertocat/Hello-World"
	cmdComment = int64(492700400)
)

// said is a new comment by login on issue #1, which "reporter" opened, which carries
// needs-triage and bug, and which no one is assigned to.
func said(t testing.TB, login, body string, edit ...func(*github.IssueCommentEvent)) Event {
	return comment(t, "created.json", func(e *github.IssueCommentEvent) {
		e.Issue.User = user("reporter")
		e.Issue.AuthorAssociation = github.String("NONE")
		e.Issue.Labels = labels("needs-triage", "bug")
		e.Issue.Assignee, e.Issue.Assignees = nil, nil
		e.Comment.User = user(login)
		e.Comment.AuthorAssociation = github.String(associations[login])
		e.Comment.Body = github.String(body)
		e.Sender = user(login)
		for _, f := range edit {
			f(e)
		}
	})
}

func cmdAction(a Action) Action {
	a.Repo, a.Number = cmdRepo, 1
	if a.Rule == "" {
		a.Rule = RuleCommands
	}
	return a
}

var (
	thumbsUp = cmdAction(Action{Type: React, CommentID: cmdComment, Content: "+1", Reason: "every command in the comment ran"})
	confused = cmdAction(Action{Type: React, CommentID: cmdComment, Content: "confused", Reason: "a command in the comment was refused or invalid"})
)

func reply(reason string) Action {
	return cmdAction(Action{Type: Comment, Key: "reply-492700400", Body: "(golden)", Reason: reason})
}

// runCommands evaluates with the test bot; reply bodies are replaced by "(golden)": their text is
// compared with golden files in TestCommandReplies.
func runCommands(t *testing.T, ev Event, cfg Config, mem Memory, lookup Lookup, history func(context.Context) ([]HistoryEntry, error)) Outcome {
	t.Helper()
	in := Input{Event: ev, Config: cfg, Memory: mem, BotLogin: testBot, History: history}
	if lookup != nil {
		in.Lookup = lookup
	}
	out, err := Evaluate(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range out.Actions {
		if a.Type == Comment && strings.HasPrefix(a.Key, "reply-") {
			out.Actions[i].Body = "(golden)"
		}
	}
	return out
}

func TestCommands(t *testing.T) {
	const reasonTriaged = ": the issue has been triaged"
	untriage := func(reason string) Action {
		return cmdAction(Action{Type: RemoveLabel, Label: "needs-triage", Reason: reason})
	}
	withRoutes := func(c *Config) {
		c.Notifications.Routes = []Route{{On: RouteNotifyCommand, To: []string{"team"}}, {On: RouteLabeled, Label: "security", To: []string{"team"}}}
	}
	closed := func(e *github.IssueCommentEvent) { e.Issue.State = github.String("closed") }
	tests := []struct {
		name       string
		give       Event
		config     func(*Config)
		memory     Memory
		want       []Action
		wantMemory func(*testing.T, Memory)
	}{
		{
			name: "/label by a triager is triage",
			give: said(t, "triager", "/label enhancement"),
			want: []Action{
				cmdAction(Action{Type: AddLabels, Labels: []string{"enhancement"}, Reason: "/label enhancement by @triager"}),
				untriage("/label enhancement by @triager" + reasonTriaged),
				thumbsUp,
			},
			wantMemory: func(t *testing.T, m Memory) {
				if !m.Triaged || !containsFold(m.HumanAdded, "enhancement") {
					t.Errorf("memory %+v: want triaged and enhancement added by a human", m)
				}
			},
		},
		{
			name: "/label several, quoted, one already there, one a not-triage label",
			give: said(t, "triager", `/label "good first issue" BUG`),
			want: []Action{
				cmdAction(Action{Type: AddLabels, Labels: []string{"good first issue"}, Reason: `/label "good first issue" by @triager`}),
				untriage(`/label "good first issue" by @triager` + reasonTriaged),
				thumbsUp,
			},
		},
		{
			name:   "/label a label anyone may set: not triage",
			give:   said(t, "stranger", "/label question"),
			config: func(c *Config) { c.Commands.AnyoneMayLabel = []string{"question|help wanted"} },
			want: []Action{
				cmdAction(Action{Type: AddLabels, Labels: []string{"question"}, Reason: "/label question by @stranger"}),
				thumbsUp,
			},
		},
		{
			name:   "/label notifies a labeled route",
			give:   said(t, "triager", "/label security"),
			config: withRoutes,
			want: []Action{
				cmdAction(Action{Type: AddLabels, Labels: []string{"security"}, Reason: "/label security by @triager"}),
				untriage("/label security by @triager" + reasonTriaged),
				cmdAction(Action{Type: Notify, Channel: RouteLabeled, Label: "security", Reason: "a notification route asks for labeled",
					Text: `@triager labelled Codertocat/Hello-World#1 "Spelling error in the README file": security https://github.com/Codertocat/Hello-World/issues/1`}),
				thumbsUp,
			},
		},
		{
			name: "/label of a priority label is /priority",
			give: said(t, "triager", `/label "priority: high"`),
			want: []Action{
				cmdAction(Action{Type: AddLabels, Labels: []string{"priority: high"}, Reason: `/label "priority: high" by @triager`}),
				thumbsUp,
			},
			wantMemory: func(t *testing.T, m Memory) {
				if !m.PriorityManual {
					t.Error("priority not manual")
				}
			},
		},
		{
			name: "/remove-label is remembered as a person's removal",
			give: said(t, "triager", "/remove-label Bug"),
			want: []Action{cmdAction(Action{Type: RemoveLabel, Label: "bug", Reason: "/remove-label bug by @triager"}), thumbsUp},
			wantMemory: func(t *testing.T, m Memory) {
				if !containsFold(m.HumanRemoved, "bug") {
					t.Errorf("HumanRemoved %v", m.HumanRemoved)
				}
			},
		},
		{
			name: "/remove-label of a label the issue does not have",
			give: said(t, "triager", "/remove-label wontfix"),
			want: []Action{reply("@triager's command could not run"), confused},
		},
		{
			name: "/priority high, then the comment count leaves it alone",
			give: said(t, "triager", "/priority high", func(e *github.IssueCommentEvent) { e.Issue.Comments = github.Int(4) }),
			want: []Action{cmdAction(Action{Type: AddLabels, Labels: []string{"priority: high"}, Reason: "/priority high by @triager"}), thumbsUp},
			wantMemory: func(t *testing.T, m Memory) {
				if !m.PriorityManual {
					t.Error("priority not manual")
				}
			},
		},
		{
			name: "/priority none hands it back to the comment count",
			give: said(t, "triager", "/priority none", func(e *github.IssueCommentEvent) {
				e.Issue.Comments = github.Int(4)
				e.Issue.Labels = labels("priority: high")
			}),
			memory: Memory{PriorityManual: true},
			want: []Action{
				cmdAction(Action{Type: AddLabels, Labels: []string{"priority: low"}, Reason: `/priority none by @triager; 4 comments: reaches "priority: low" (at 3)`}),
				cmdAction(Action{Type: RemoveLabel, Label: "priority: high", Reason: `/priority none by @triager; 4 comments: lowered to "priority: low"`}),
				thumbsUp,
			},
		},
		{
			name: "/priority with a level that does not exist",
			give: said(t, "triager", "/priority urgent"),
			want: []Action{reply("@triager's command could not run"), confused},
		},
		{
			name: "/triage", give: said(t, "triager", "/triage"),
			want: []Action{untriage("/triage by @triager"), thumbsUp},
		},
		{
			name: "/needs-triage", give: said(t, "triager", "/needs-triage", func(e *github.IssueCommentEvent) { e.Issue.Labels = nil }),
			memory: Memory{Triaged: true, HumanRemoved: []string{"needs-triage"}},
			want:   []Action{cmdAction(Action{Type: AddLabels, Labels: []string{"needs-triage"}, Reason: "/needs-triage by @triager"}), thumbsUp},
		},
		{
			name: "/assign alone assigns yourself, whoever you are; not triage",
			give: said(t, "stranger", "/assign"),
			want: []Action{cmdAction(Action{Type: Assign, Assignees: []string{"stranger"}, Reason: "/assign @stranger by @stranger"}), thumbsUp},
		},
		{
			name: "/assign someone by a triager is triage",
			give: said(t, "triager", "/assign @bob alice"),
			want: []Action{
				cmdAction(Action{Type: Assign, Assignees: []string{"bob", "alice"}, Reason: "/assign @bob @alice by @triager"}),
				untriage("/assign @bob @alice by @triager" + reasonTriaged),
				thumbsUp,
			},
		},
		{
			name: "/unassign", give: said(t, "triager", "/unassign @bob", func(e *github.IssueCommentEvent) { e.Issue.Assignees = []*github.User{user("Bob")} }),
			want: []Action{cmdAction(Action{Type: Unassign, Assignees: []string{"bob"}, Reason: "/unassign @bob by @triager"}), thumbsUp},
		},
		{
			name: "/close by the issue's author",
			give: said(t, "reporter", "/close"),
			want: []Action{cmdAction(Action{Type: Close, StateReason: "completed", Reason: "/close by @reporter"}), thumbsUp},
		},
		{
			name: "/close not-planned",
			give: said(t, "triager", "/close not_planned"),
			want: []Action{cmdAction(Action{Type: Close, StateReason: "not_planned", Reason: "/close not-planned by @triager"}), thumbsUp},
		},
		{
			name: "/close of a closed issue changes only its reason",
			give: said(t, "triager", "/close\n/close not-planned", closed),
			want: []Action{cmdAction(Action{Type: Close, StateReason: "not_planned", Reason: "/close not-planned by @triager"}), thumbsUp},
		},
		{
			name: "/reopen: the issue waits for triage again",
			give: said(t, "reporter", "/reopen", closed, func(e *github.IssueCommentEvent) { e.Issue.Labels = nil }),
			want: []Action{
				cmdAction(Action{Type: Reopen, Reason: "/reopen by @reporter"}),
				cmdAction(Action{Type: AddLabels, Labels: []string{"needs-triage"}, Reason: "/reopen by @reporter: waiting for a maintainer to triage it again"}),
				thumbsUp,
			},
		},
		{
			name: "/coc posts the reminder once per comment",
			give: said(t, "triager", "/coc"),
			want: []Action{
				cmdAction(Action{Type: Comment, Key: "coc-492700400", Body: cocBody("https://example.org/conduct"), Reason: "/coc by @triager"}),
				thumbsUp,
			},
		},
		{
			name:   "/notify, neutralised",
			give:   said(t, "stranger", "/notify please look, @org/everyone"),
			config: withRoutes,
			want: []Action{
				cmdAction(Action{Type: Notify, Channel: RouteNotifyCommand, Reason: "/notify by @stranger",
					Text: "@stranger asks the maintainers to look at Codertocat/Hello-World#1 \"Spelling error in the README file\": please look, @\u200borg/everyone https://github.com/Codertocat/Hello-World/issues/1#issuecomment-492700400"}),
				thumbsUp,
			},
		},
		{
			name: "/notify without a route says so",
			give: said(t, "stranger", "/notify"),
			want: []Action{reply("@stranger's command could not run"), confused},
		},
		{
			name: "/help", give: said(t, "stranger", "/help"),
			want: []Action{reply("answer to @stranger's commands"), thumbsUp},
		},
		{
			name: "/why without a history (replay) says so",
			give: said(t, "stranger", "/why"),
			want: []Action{reply("@stranger's command could not run"), confused},
		},
		{
			name: "several commands run in order",
			give: said(t, "triager", "Thanks!\n/assign @bob\n/label enhancement\n\n/priority low\n/close not-planned"),
			want: []Action{
				cmdAction(Action{Type: Assign, Assignees: []string{"bob"}, Reason: "/assign @bob by @triager"}),
				// One request for every label added, the removal after it.
				cmdAction(Action{Type: AddLabels, Labels: []string{"enhancement", "priority: low"}, Reason: "/label enhancement by @triager; /priority low by @triager"}),
				untriage("/assign @bob by @triager" + reasonTriaged),
				cmdAction(Action{Type: Close, StateReason: "not_planned", Reason: "/close not-planned by @triager"}),
				thumbsUp,
			},
		},
		{
			name: "some run, some are refused: one reply",
			give: said(t, "stranger", "/assign\n/label bug2\n/lable x"),
			want: []Action{
				cmdAction(Action{Type: Assign, Assignees: []string{"stranger"}, Reason: "/assign @stranger by @stranger"}),
				reply("@stranger's commands could not run"),
				confused,
			},
		},
		{
			name: "an edit runs only the commands it added",
			give: comment(t, "edited.json", func(e *github.IssueCommentEvent) {
				e.Comment.User, e.Sender = user("triager"), user("triager")
				e.Comment.AuthorAssociation = github.String("MEMBER")
				e.Changes.Body.From = github.String("/close\nI think")
				e.Comment.Body = github.String("/close\nI think\n/label enhancement")
				e.Issue.Labels = labels("bug")
			}),
			want: []Action{cmdAction(Action{Type: AddLabels, Labels: []string{"enhancement"}, Reason: "/label enhancement by @triager"}), thumbsUp},
		},
		{
			name: "an edit that adds no command",
			give: comment(t, "edited.json", func(e *github.IssueCommentEvent) {
				e.Changes.Body.From = github.String("/close\nI think")
				e.Comment.Body = github.String("/close\nI think so")
			}),
		},
		{
			name: "an edit fixing a refused command updates the reply",
			give: comment(t, "edited.json", func(e *github.IssueCommentEvent) {
				e.Comment.User, e.Sender = user("triager"), user("triager")
				e.Changes.Body.From = github.String("/lable bug")
				e.Comment.Body = github.String("/label bug")
				e.Issue.Labels = labels("bug")
			}),
			memory: Memory{BotComments: []string{"commands:reply-492700400"}},
			want:   []Action{reply("@triager's edited commands ran"), thumbsUp},
		},
		{
			name: "a deleted comment: nothing",
			give: comment(t, "deleted.json", func(e *github.IssueCommentEvent) { e.Comment.Body = github.String("/close") }),
		},
		{
			name: "the bot's own comment: nothing",
			give: said(t, "triager", "/close", func(e *github.IssueCommentEvent) { e.Comment.User, e.Sender = user(testBot), user(testBot) }),
		},
		{
			name: "another app's comment: nothing",
			give: said(t, "triager", "/close", func(e *github.IssueCommentEvent) {
				e.Comment.User = &github.User{Login: github.String("ci[bot]"), Type: github.String("Bot")}
				e.Sender = e.Comment.User
			}),
		},
		{
			name: "a redelivered event: its commands ran already", give: said(t, "triager", "/close"),
			memory: Memory{CommandDeliveries: []string{"d-created.json"}},
		},
		{
			name: "commands disabled", give: said(t, "triager", "/close"),
			config: func(c *Config) { c.Commands.Enabled = false },
		},
		{
			name: "a command in a quote or code: nothing", give: said(t, "triager", "> /close\n\n```\n/close\n```"),
		},
		{
			name: "on a pull request: acts on it, and /close has no reason",
			give: comment(t, "created.on-pull-request.json", func(e *github.IssueCommentEvent) {
				e.Comment.Body = github.String("/label enhancement\n/close not-planned")
			}),
			want: []Action{
				{Rule: RuleCommands, Type: AddLabels, Repo: "catppuccin/userstyles", Number: 1323, Labels: []string{"enhancement"}, Reason: "/label enhancement by @trinkey"},
				{Rule: RuleCommands, Type: Close, Repo: "catppuccin/userstyles", Number: 1323, Reason: "/close not-planned by @trinkey"},
				{Rule: RuleCommands, Type: React, Repo: "catppuccin/userstyles", Number: 1323, CommentID: 2357211297, Content: "+1", Reason: "every command in the comment ran"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.config != nil {
				tt.config(&cfg)
			}
			lookup := people()
			if strings.Contains(tt.name, "pull request") {
				lookup.perms["trinkey"] = "write"
			}
			out := runCommands(t, tt.give, cfg, tt.memory, lookup, nil)
			if diff := cmp.Diff(tt.want, out.Actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if tt.wantMemory != nil {
				tt.wantMemory(t, out.Memory)
			}
			for login, n := range lookup.calls {
				if n > 1 {
					t.Errorf("Permission(%s) asked %d times", login, n)
				}
			}
		})
	}
}

// TestCommandPermissions is the permission matrix of issue 5 under the default configuration:
// each command against each kind of commenter. A refusal is a 😕 reaction.
func TestCommandPermissions(t *testing.T) {
	// Columns: OWNER, MEMBER (read), MEMBER (triage team), COLLABORATOR (write), CONTRIBUTOR,
	// NONE, the issue's author (NONE).
	actors := []string{"owner", "member", "triager", "collab", "contrib", "stranger", "reporter"}
	matrix := []struct {
		body string
		want string // per actor: y allowed, n refused
	}{
		{"/label enhancement", "ynyynnn"},
		{"/remove-label bug", "ynyynnn"},
		{"/priority high", "ynyynnn"},
		{"/triage", "ynyynnn"},
		{"/needs-triage", "ynyynnn"},
		{"/assign @bob", "ynyynnn"},
		{"/assign", "yyyyyyy"},
		{"/unassign @bob", "ynyynnn"},
		{"/unassign", "yyyyyyy"},
		{"/close", "ynyynny"},
		{"/reopen", "ynyynny"},
		{"/coc", "ynyynnn"},
		{"/notify look", "yyyyyyy"},
		{"/help", "yyyyyyy"},
		{"/why", "yyyyyyy"},
	}
	cfg := DefaultConfig()
	cfg.Notifications.Routes = []Route{{On: RouteNotifyCommand, To: []string{"team"}}}
	history := func(context.Context) ([]HistoryEntry, error) { return nil, nil }
	for _, row := range matrix {
		for i, actor := range actors {
			t.Run(row.body+"/"+actor, func(t *testing.T) {
				lookup := people()
				ev := said(t, actor, row.body, func(e *github.IssueCommentEvent) {
					e.Issue.Assignees = []*github.User{user("bob"), user(actor)}
				})
				out := runCommands(t, ev, cfg, Memory{}, lookup, history)
				last := out.Actions[len(out.Actions)-1]
				got := "y"
				if last.Content == "confused" {
					got = "n"
				}
				if got != row.want[i:i+1] {
					t.Errorf("%s by %s (%s): allowed %s, want %s; actions %+v", row.body, actor, associations[actor], got, row.want[i:i+1], out.Actions)
				}
				for login, n := range lookup.calls {
					if n > 1 {
						t.Errorf("Permission(%s) asked %d times", login, n)
					}
				}
				if actor == "owner" && len(lookup.calls) > 0 {
					t.Errorf("OWNER's permission was looked up: %v", lookup.calls)
				}
			})
		}
	}
}

// TestCommandPermissionsAskedOnce: however many commands need it, a person's permission is
// asked once per event; commands anyone may run ask nothing.
func TestCommandPermissionsAskedOnce(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string]int
	}{
		{name: "many commands", body: "/label a\n/remove-label bug\n/priority high\n/assign @bob\n/help\n/close", want: map[string]int{"reporter": 1}},
		{name: "only commands anyone may run, /help aside", body: "/why\n/notify\n/close", want: nil},
		{name: "a self-assignment on an untriaged issue asks whether it is triage", body: "/assign\n/unassign", want: map[string]int{"reporter": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := people()
			runCommands(t, said(t, "reporter", tt.body), DefaultConfig(), Memory{}, lookup, nil)
			if diff := cmp.Diff(tt.want, lookup.calls); diff != "" {
				t.Errorf("Permission calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCommandLookupError: a failed permission lookup fails the event (the worker retries it),
// with the input's memory and no actions.
func TestCommandLookupError(t *testing.T) {
	lookup := people()
	lookup.err = errors.New("GitHub is down")
	mem := Memory{BotLabels: []string{"needs-triage"}}
	out, err := Evaluate(context.Background(), Input{Event: said(t, "member", "/label x"), Config: DefaultConfig(), Memory: mem, Lookup: lookup, BotLogin: testBot})
	if err == nil || !strings.Contains(err.Error(), "GitHub is down") {
		t.Fatalf("err %v", err)
	}
	if len(out.Actions) != 0 || !cmp.Equal(out.Memory, mem) {
		t.Errorf("outcome %+v", out)
	}
}

// TestCommandMemory: the delivery is remembered so a redelivery runs nothing, up to a bound.
func TestCommandMemory(t *testing.T) {
	var mem Memory
	for i := range maxCommandDeliveries {
		mem.CommandDeliveries = append(mem.CommandDeliveries, "old-"+string(rune('a'+i%26)))
	}
	out := runCommands(t, said(t, "triager", "/triage"), DefaultConfig(), mem, people(), nil)
	got := out.Memory.CommandDeliveries
	if len(got) != maxCommandDeliveries || got[len(got)-1] != "d-created.json" {
		t.Errorf("CommandDeliveries %v", got)
	}
	if !out.Memory.Triaged {
		t.Error("not triaged")
	}
}

// TestCommandReplies compares the replies with their golden files. Run
// `go test ./rules/ -run TestCommandReplies -update` after changing a text.
func TestCommandReplies(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	history := func(context.Context) ([]HistoryEntry, error) {
		return []HistoryEntry{
			{Time: at("2026-11-20T09:00:00Z"), Rule: RuleNeedsTriage, Type: string(AddLabels), Labels: []string{"needs-triage"}, Status: "done", Reason: "new issue: waiting for a maintainer to triage it"},
			{Time: at("2026-11-20T09:00:01Z"), Rule: RuleCodeOfConduct, Type: string(Notify), Status: "skipped", Reason: "@troll's comment matches a pattern: maintainers should look"},
			{Time: at("2026-11-21T10:30:00Z"), Rule: RuleCommands, Type: string(RemoveLabel), Label: "needs-triage", Status: "done", Reason: "/label enhancement by @alice: the issue has been triaged"},
		}, nil
	}
	broken := func(context.Context) ([]HistoryEntry, error) { return nil, errors.New("no JetStream") }
	anyone := func(c *Config) { c.Commands.AnyoneMayLabel = []string{"good first issue", "question"} }
	tests := []struct {
		file    string
		give    Event
		config  func(*Config)
		lookup  Lookup
		history func(context.Context) ([]HistoryEntry, error)
		memory  Memory
	}{
		{file: "reply-refused-label.md", give: said(t, "member", `/label bug "@org/everyone" question`), config: anyone},
		{file: "reply-refused-no-lookup.md", give: said(t, "member", "/close\n/assign @bob"), lookup: Lookup(nil)},
		{file: "reply-invalid.md", give: said(t, "triager", "/lable bug\n/priority urgent\n/close later\n/assign @org/team\n/label \"unterminated\n/remove-label nope\n/label "+strings.Repeat("x", 51))},
		{file: "reply-notify-advice.md", give: said(t, "stranger", "/triage"), config: func(c *Config) {
			c.Notifications.Routes = []Route{{On: RouteNotifyCommand, To: []string{"team"}}}
		}},
		{file: "help-maintainer.md", give: said(t, "maintainer", "/help"), config: func(c *Config) {
			c.Notifications.Routes = []Route{{On: RouteNotifyCommand, To: []string{"team"}}}
		}},
		{file: "help-stranger.md", give: said(t, "stranger", "/help"), config: anyone},
		{file: "help-author.md", give: said(t, "reporter", "/help")},
		{file: "help-pull-request.md", give: comment(t, "created.on-pull-request.json", func(e *github.IssueCommentEvent) { e.Comment.Body = github.String("/help") })},
		{file: "why.md", give: said(t, "stranger", "/why"), history: history},
		{file: "why-and-refusal.md", give: said(t, "stranger", "/why\n/close\n/why"), history: history},
		{file: "why-unavailable.md", give: said(t, "stranger", "/why"), history: broken},
		{file: "coc.md", give: said(t, "triager", "/coc")},
		{file: "reply-edit-fixed.md", memory: Memory{BotComments: []string{"commands:reply-492700400"}},
			give: comment(t, "edited.json", func(e *github.IssueCommentEvent) {
				e.Changes.Body.From = github.String("/lable bug")
				e.Comment.Body = github.String("/label bug")
			})},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.config != nil {
				tt.config(&cfg)
			}
			lookup := tt.lookup
			if lookup == nil && !strings.Contains(tt.file, "no-lookup") {
				lookup = people()
			}
			in := Input{Event: tt.give, Config: cfg, Memory: tt.memory, BotLogin: testBot, Lookup: lookup, History: tt.history}
			out, err := Evaluate(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			for _, a := range out.Actions {
				if a.Type == Comment {
					got = a.Body
				}
			}
			if got == "" {
				t.Fatalf("no comment in %+v", out.Actions)
			}
			if strings.Contains(strings.ReplaceAll(got, "@\u200b", ""), "@org") {
				t.Errorf("the reply mentions @org:\n%s", got)
			}
			compareGolden(t, tt.file, got)
		})
	}
}

// compareGolden compares got with testdata/golden/name, rewriting it with -update.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-golden +got):\n%s", path, diff)
	}
}
