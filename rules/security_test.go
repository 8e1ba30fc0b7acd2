package rules

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// policyLookup is people() that also knows the repository's security policy.
type policyLookup struct {
	*permLookup
	policy string
}

func (p policyLookup) SecurityPolicyURL(context.Context) (string, error) { return p.policy, nil }

func TestSecurityGuard(t *testing.T) {
	report := func(assoc string) Event {
		return issues(t, "opened.json", func(e *github.IssuesEvent) {
			e.Issue.User = user("reporter")
			e.Issue.AuthorAssociation = github.String(assoc)
			e.Issue.Labels = nil
			e.Issue.Title = github.String("Stored XSS in issue titles")
			e.Issue.Body = github.String("An attacker can steal the session cookie of any admin who opens the page.")
			e.Sender = user("reporter")
		})
	}
	withRoute := func(c *Config) {
		c.Notifications.Routes = []Route{{On: RouteSecurity, To: []string{"security-team"}}}
	}
	types := func(actions []Action) []string {
		var out []string
		for _, a := range actions {
			if a.Rule == RuleSecurity {
				out = append(out, string(a.Type))
			}
		}
		return out
	}
	tests := []struct {
		name   string
		give   Event
		config func(*Config)
		memory Memory
		want   []string
	}{
		{name: "a report by a stranger", give: report("NONE"), config: withRoute, want: []string{"notify", "comment", "add_labels"}},
		{name: "no security route: no notification", give: report("NONE"), want: []string{"comment", "add_labels"}},
		{name: "lock and redact", give: report("CONTRIBUTOR"), config: func(c *Config) { withRoute(c); c.Security.Lock, c.Security.Redact = true, true },
			want: []string{"notify", "comment", "add_labels", "lock", "edit_body"}},
		{name: "redact without a route keeps the text", give: report("NONE"), config: func(c *Config) { c.Security.Redact = true },
			want: []string{"comment", "add_labels"}},
		{name: "a maintainer's own issue", give: report("MEMBER"), config: withRoute},
		{name: "once per issue", give: report("NONE"), config: withRoute, memory: Memory{SecurityFlagged: true}},
		{name: "never after /not-security", give: report("NONE"), config: withRoute, memory: Memory{NotSecurity: true}},
		{name: "switched off", give: report("NONE"), config: func(c *Config) { withRoute(c); c.Security.Enabled = false }},
		{name: "no label, no comment", give: report("NONE"), config: func(c *Config) { withRoute(c); c.Security.Label, c.Security.Comment = "", false },
			want: []string{"notify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.config != nil {
				tt.config(&cfg)
			}
			out, err := Evaluate(context.Background(), Input{Event: tt.give, Config: cfg, Memory: tt.memory, BotLogin: testBot,
				Lookup: policyLookup{people(), "https://github.com/Codertocat/Hello-World/blob/main/.github/security.md"}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, types(out.Actions)); diff != "" {
				t.Fatalf("actions (-want +got):\n%s", diff)
			}
			for _, a := range out.Actions {
				switch {
				case a.Type == Notify && a.Rule == RuleSecurity:
					if !a.Private || !strings.Contains(a.Text, "steal the session cookie") {
						t.Errorf("the notification is not private or lacks the text: %+v", a)
					}
				case a.Type == Comment && a.Rule == RuleSecurity:
					for _, w := range []string{"/blob/main/.github/security.md", "https://github.com/Codertocat/Hello-World/security/advisories/new", "`/not-security`"} {
						if !strings.Contains(a.Body, w) {
							t.Errorf("the comment lacks %q:\n%s", w, a.Body)
						}
					}
				case a.Type == EditBody:
					if !strings.Contains(a.Body, "edit history") {
						t.Errorf("the notice does not say GitHub keeps the history: %s", a.Body)
					}
				}
				if a.Rule == RuleSecurity && !strings.Contains(a.Reason, "a class of vulnerability") {
					t.Errorf("the reason does not say why: %q", a.Reason)
				}
			}
			if len(tt.want) > 0 && !out.Memory.SecurityFlagged {
				t.Error("not remembered as flagged")
			}
		})
	}
}

func TestNotSecurity(t *testing.T) {
	flagged := Memory{SecurityFlagged: true, SecurityLocked: true, BotLabels: []string{"security-report"}}
	ev := said(t, "triager", "/not-security", func(e *github.IssueCommentEvent) { e.Issue.Labels = labels("security-report") })
	out := runCommandsRaw(t, ev)
	if len(out.Actions) == 0 {
		t.Fatal("no actions")
	}
	out, err := Evaluate(context.Background(), Input{Event: ev, Config: DefaultConfig(), Memory: flagged, BotLogin: testBot, Lookup: people()})
	if err != nil {
		t.Fatal(err)
	}
	want := []Action{
		cmdAction(Action{Type: RemoveLabel, Label: "security-report", Reason: "/not-security by @triager: not a security report"}),
		cmdAction(Action{Type: Unlock, Reason: "/not-security by @triager: not a security report"}),
		thumbsUp,
	}
	if diff := cmp.Diff(want, out.Actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	if !out.Memory.NotSecurity || out.Memory.SecurityFlagged || out.Memory.SecurityLocked {
		t.Errorf("memory %+v", out.Memory)
	}
	// A stranger may not.
	out, err = Evaluate(context.Background(), Input{Event: said(t, "stranger", "/not-security"), Config: DefaultConfig(), Memory: flagged, BotLogin: testBot, Lookup: people()})
	if err != nil {
		t.Fatal(err)
	}
	if out.Memory.NotSecurity {
		t.Error("a stranger's /not-security was obeyed")
	}
}
