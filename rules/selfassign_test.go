package rules

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSelfAssignPermission (issue 12 §5): assigning oneself is a permission like the others,
// commands.permissions.self-assign, by default anyone.
func TestSelfAssignPermission(t *testing.T) {
	tests := []struct {
		name      string
		level     string // "" = the default
		who, body string
		want      []Action
		wantReply string
	}{
		{name: "default: anyone", who: "stranger", body: "/assign",
			want: []Action{cmdAction(Action{Type: Assign, Assignees: []string{"stranger"}, Reason: "/assign @stranger by @stranger"}), thumbsUp}},
		{name: "triage only: a stranger is refused", level: "triage", who: "stranger", body: "/assign",
			want: []Action{reply("@stranger's command could not run"), confused}, wantReply: "only people with triage access or more may assign themselves here"},
		{name: "triage only: a triager may", level: "triage", who: "triager", body: "/assign @triager",
			want: []Action{
				cmdAction(Action{Type: Assign, Assignees: []string{"triager"}, Reason: "/assign @triager by @triager"}),
				cmdAction(Action{Type: RemoveLabel, Label: "needs-triage", Reason: "/assign @triager by @triager: the issue has been triaged"}),
				thumbsUp,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.level != "" {
				cfg.Commands.Permissions[PermissionSelfAssign] = tt.level
			}
			in := Input{Event: said(t, tt.who, tt.body), Config: cfg, BotLogin: testBot, Lookup: people()}
			out, err := Evaluate(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			var body string
			for i, a := range out.Actions {
				if a.Type == Comment {
					body = a.Body
					out.Actions[i].Body = "(golden)"
				}
			}
			if diff := cmp.Diff(tt.want, out.Actions); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if !strings.Contains(body, tt.wantReply) {
				t.Errorf("reply lacks %q:\n%s", tt.wantReply, body)
			}
		})
	}
}
