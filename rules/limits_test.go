package rules

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// floodActions evaluates a triager's comment and returns the actions and the reply's body.
func floodActions(t *testing.T, body string) ([]Action, string) {
	t.Helper()
	out := runCommandsRaw(t, said(t, "triager", body))
	var reply string
	for _, a := range out.Actions {
		if a.Type == Comment && strings.HasPrefix(a.Key, "reply-") {
			reply = a.Body
		}
	}
	return out.Actions, reply
}

// TestCommandFlood reproduces issue 8.5: one comment of 10,000 /label lines became 10,000 label
// POSTs; one /label line of 2,000 names became one POST GitHub refuses.
func TestCommandFlood(t *testing.T) {
	lines := make([]string, 10000)
	for i := range lines {
		lines[i] = fmt.Sprintf("/label l%d", i+1)
	}
	names := make([]string, 2000)
	for i := range names {
		names[i] = fmt.Sprintf("n%d", i+1)
	}
	tests := []struct {
		name      string
		give      string
		wantAdded []string // the labels of the one add_labels action
		wantReply []string // pieces the reply must hold
	}{
		{
			name:      "10,000 /label lines",
			give:      strings.Join(lines, "\n"),
			wantAdded: []string{"l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "l10", "l11", "l12", "l13", "l14", "l15", "l16", "l17", "l18", "l19", "l20"},
			wantReply: []string{"9980 more commands in this comment were not run", "at most 20 commands", "`/label l21`", "and 9970 more"},
		},
		{
			name:      "2,000 labels on one line",
			give:      "/label " + strings.Join(names, " "),
			wantAdded: names[:99], // bug stays, needs-triage goes: 99 more fit in GitHub's 100
			wantReply: []string{"1900 more labels were not considered", "`n101`", "and 1890 more", "1 label was not added (`n100`): GitHub allows at most 100 labels on an issue"},
		},
		{
			name:      "adds merged into one request, removals after",
			give:      "/label a\n/remove-label bug\n/label b\n/label c d\n/remove-label a\n/label bug",
			wantAdded: []string{"b", "c", "d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actions, reply := floodActions(t, tt.give)
			var adds [][]string
			labelRequests := 0
			for _, a := range actions {
				switch a.Type {
				case AddLabels:
					adds = append(adds, a.Labels)
					labelRequests++
				case RemoveLabel:
					labelRequests++
					if len(adds) == 0 {
						t.Errorf("removal of %q comes before the additions", a.Label)
					}
				}
			}
			if len(adds) != 1 {
				t.Fatalf("want one add_labels action, got %d: %v", len(adds), adds)
			}
			if diff := cmp.Diff(tt.wantAdded, adds[0]); diff != "" {
				t.Errorf("labels added (-want +got):\n%s", diff)
			}
			if labelRequests > 2 {
				t.Errorf("%d label requests; want at most one POST and the needs-triage removal", labelRequests)
			}
			if n := utf8.RuneCountInString(reply); n >= MaxCommentChars {
				t.Errorf("the reply is %d characters; GitHub allows %d", n, MaxCommentChars)
			}
			for _, w := range tt.wantReply {
				if !strings.Contains(reply, w) {
					t.Errorf("the reply lacks %q:\n%s", w, shorten(reply, 2000))
				}
			}
		})
	}
}

// runCommandsRaw evaluates with the test bot and people's permissions, bodies as they are.
func runCommandsRaw(t *testing.T, ev Event) Outcome {
	t.Helper()
	out, err := Evaluate(context.Background(), Input{Event: ev, Config: DefaultConfig(), BotLogin: testBot, Lookup: people()})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLimit(t *testing.T) {
	many := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return out
	}
	tests := []struct {
		name string
		give Action
		want func(t *testing.T, a Action)
	}{
		{
			name: "a comment of 550,163 characters",
			give: Action{Type: Comment, Body: strings.Repeat("- a problem of one command\n", 20377)},
			want: func(t *testing.T, a Action) {
				if n := utf8.RuneCountInString(a.Body); n > maxBodyChars {
					t.Errorf("body of %d characters", n)
				}
				kept, _, _ := strings.Cut(a.Body, "\n\n… and ")
				if n := 27*20377 - len(kept); !strings.Contains(a.Body, fmt.Sprintf("… and %d more characters not shown", n)) {
					t.Errorf("the notice does not say the %d characters cut: %q", n, a.Body[len(a.Body)-120:])
				}
				if !strings.Contains(a.Body, "more characters not shown (GitHub allows 65536 in a comment)") {
					t.Errorf("the cut is not visible: %q", a.Body[len(a.Body)-200:])
				}
			},
		},
		{
			name: "2,000 labels",
			give: Action{Type: AddLabels, Labels: many("l", 2000), Reason: "r"},
			want: func(t *testing.T, a Action) {
				if diff := cmp.Diff(many("l", 100), a.Labels); diff != "" {
					t.Error(diff)
				}
				if want := "r (… and 1900 more labels not added: GitHub allows 100 on an issue)"; a.Reason != want {
					t.Errorf("reason %q, want %q", a.Reason, want)
				}
			},
		},
		{
			name: "30 assignees",
			give: Action{Type: Assign, Assignees: many("u", 30)},
			want: func(t *testing.T, a Action) {
				if len(a.Assignees) != MaxAssignees || !strings.Contains(a.Reason, "… and 20 more") {
					t.Errorf("%d assignees, reason %q", len(a.Assignees), a.Reason)
				}
			},
		},
		{
			name: "a long reason and notification text",
			give: Action{Type: Notify, Text: strings.Repeat("t", maxNotifyChars+10), Reason: strings.Repeat("r", maxReasonChars+10)},
			want: func(t *testing.T, a Action) {
				if utf8.RuneCountInString(a.Text) > maxNotifyChars || utf8.RuneCountInString(a.Reason) > maxReasonChars {
					t.Errorf("text of %d, reason of %d characters", utf8.RuneCountInString(a.Text), utf8.RuneCountInString(a.Reason))
				}
			},
		},
		{
			name: "within the limits: unchanged",
			give: Action{Type: AddLabels, Labels: many("l", 100), Body: strings.Repeat("x", maxBodyChars), Reason: "r"},
			want: func(t *testing.T, a Action) {
				if diff := cmp.Diff(Action{Type: AddLabels, Labels: many("l", 100), Body: strings.Repeat("x", maxBodyChars), Reason: "r"}, a); diff != "" {
					t.Error(diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			once := Limit(tt.give)
			tt.want(t, once)
			// The rules and then the executor both apply it: the second pass changes nothing.
			if diff := cmp.Diff(once, Limit(once)); diff != "" {
				t.Errorf("Limit twice differs from once (-once +twice):\n%s", diff)
			}
		})
	}
}

// TestEveryCommentCapped feeds hostile comments through Evaluate: no comment the bot writes
// reaches GitHub's limit, and no label request names more labels than an issue may carry.
func TestEveryCommentCapped(t *testing.T) {
	long := strings.Repeat("y", 1000)
	var unknown, refused []string
	for i := range 40 {
		unknown = append(unknown, fmt.Sprintf("/%s%d %s", long, i, long))
	}
	for i := range 3000 {
		refused = append(refused, fmt.Sprintf("label-%d", i))
	}
	history := func(context.Context) ([]HistoryEntry, error) {
		var h []HistoryEntry
		for range 1000 {
			h = append(h, HistoryEntry{Rule: long, Type: string(AddLabels), Labels: refused[:100], Reason: long})
		}
		return h, nil
	}
	for _, give := range []struct {
		who, body string
	}{
		{"triager", strings.Join(unknown, "\n")},
		{"stranger", "/label " + strings.Join(refused, " ") + "\n/remove-label " + strings.Join(refused, " ")},
		{"stranger", "/why\n/help\n" + strings.Repeat("/why\n", 100)},
		{"triager", "/assign " + strings.Repeat("@someone ", 500)},
	} {
		out, err := Evaluate(context.Background(), Input{Event: said(t, give.who, give.body), Config: DefaultConfig(),
			BotLogin: testBot, Lookup: people(), History: history})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Actions {
			if n := utf8.RuneCountInString(a.Body); n >= MaxCommentChars-100 {
				t.Errorf("%.40q: a comment of %d characters", give.body, n)
			}
			if len(a.Labels) > MaxLabelsPerIssue || len(a.Assignees) > MaxAssignees {
				t.Errorf("%.40q: %d labels, %d assignees", give.body, len(a.Labels), len(a.Assignees))
			}
		}
	}
}
