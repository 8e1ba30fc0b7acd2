package rules

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/triagebot/triagebot/internal/markdown/markdowntest"
)

// hostileLabels are label names (and other user text) that would be markup if written raw.
var hostileLabels = []string{
	`<img src=https://e.vil/p.gif>`,
	`[x](https://e.vil)`,
	`![x](https://e.vil/p.gif)`,
	"`a` <b>b</b>",
	`**x**`,
	`</code><script>x</script>`,
}

// TestBotCommentsEscapeUserText reproduces issue 8.6: /why printed label names raw, so a label
// named <img src=…> was rendered in the bot's comment. Every comment the rules write is
// rendered as GitHub would and must show no markup that came from user text.
func TestBotCommentsEscapeUserText(t *testing.T) {
	var history []HistoryEntry
	for _, l := range hostileLabels {
		history = append(history,
			HistoryEntry{Rule: RuleNeedsTriage, Type: string(RemoveLabel), Label: "needs-triage", Status: "done",
				Reason: "@alice labelled the issue \"" + l + "\": it has been triaged"},
			HistoryEntry{Rule: RuleCommands, Type: string(AddLabels), Labels: []string{l}, Status: "done", Reason: "/label " + l + " by @bob"},
			HistoryEntry{Rule: l, Type: l, Status: l, Reason: l},
		)
	}
	hist := func(context.Context) ([]HistoryEntry, error) { return history, nil }
	quoted := make([]string, len(hostileLabels))
	for i, l := range hostileLabels {
		quoted[i] = `"` + strings.ReplaceAll(l, `"`, `'`) + `"`
	}
	bodies := []struct {
		who, body string
	}{
		{"stranger", "/why"},
		{"stranger", "/label " + strings.Join(quoted, " ")},
		{"triager", "/remove-label " + strings.Join(quoted, " ")},
		{"triager", "/priority " + quoted[0]},
		{"triager", "/lable " + hostileLabels[0]},
		{"triager", "/unassign @" + "x"},
	}
	for _, b := range bodies {
		ev := said(t, b.who, b.body, func(e *github.IssueCommentEvent) {
			e.Issue.Title = github.String(hostileLabels[0])
		})
		out, err := Evaluate(context.Background(), Input{Event: ev, Config: DefaultConfig(), BotLogin: testBot, Lookup: people(), History: hist})
		if err != nil {
			t.Fatal(err)
		}
		commented := false
		for _, a := range out.Actions {
			if a.Type != Comment {
				continue
			}
			commented = true
			h := markdowntest.HTML(t, a.Body)
			if tag := markdowntest.Hostile(h); tag != "" {
				t.Errorf("%q: the reply renders %s:\n%s", b.body, tag, h)
			}
		}
		if !commented {
			t.Errorf("%q: no reply", b.body)
		}
	}
}
