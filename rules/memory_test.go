package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// A comment written before the bot's welcome was posted is not counted with the welcome in it:
// only bot comments older than the comment are taken off the payload's count.
func TestPriorityCountsOnlyBotCommentsOlderThanTheComment(t *testing.T) {
	mem := Memory{BotComments: []string{"code-of-conduct:welcome"}}
	mem = mem.Posted([]Result{{Action: Action{Type: Comment, Rule: "code-of-conduct", Key: "welcome"}, Status: StatusDone, CommentID: 500}})
	if mem.BotCommentIDs["code-of-conduct:welcome"] != 500 {
		t.Fatalf("Posted did not record the id: %v", mem.BotCommentIDs)
	}
	tests := []struct {
		name      string
		commentID int64
		count     int
		want      []string // labels added
	}{
		{"third comment, written before the welcome existed", 400, 3, []string{"priority: low"}},
		{"third comment, written after the welcome", 600, 4, []string{"priority: low"}},
		{"second comment after the welcome", 600, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := comment(t, "created.json", func(e *github.IssueCommentEvent) {
				e.Comment.ID = github.Int64(tt.commentID)
				e.Issue.Comments = github.Int(tt.count)
				e.Issue.Labels = nil
			})
			out := evaluate(t, ev, DefaultConfig(), mem, RepoMemory{})
			var got []string
			for _, a := range out.Actions {
				if a.Rule == RulePriority && a.Type == AddLabels {
					got = append(got, a.Labels...)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("priority labels added (-want +got):\n%s", diff)
			}
		})
	}
}

// A maintainer's label can be written before the bot's needs-triage landed: the payload lacks
// it, the bot's memory knows it put it on, and it comes off.
func TestTriageRemovesTheLabelTheBotPutOnEvenIfThePayloadLacksIt(t *testing.T) {
	ev := issues(t, "labeled.json", func(e *github.IssuesEvent) {
		e.Label = &github.Label{Name: github.String("enhancement")}
		e.Issue.Labels = labels("enhancement")
		e.Issue.User = user("alice")
		e.Sender = user("maya")
		e.Issue.AuthorAssociation = github.String("NONE")
	})
	mem := Memory{BotLabels: []string{"needs-triage"}}
	out := evaluate(t, ev, DefaultConfig(), mem, RepoMemory{})
	var removed []string
	for _, a := range out.Actions {
		if a.Type == RemoveLabel {
			removed = append(removed, a.Label)
		}
	}
	if diff := cmp.Diff([]string{"needs-triage"}, removed); diff != "" {
		t.Fatalf("labels removed (-want +got):\n%s", diff)
	}
	if out := evaluate(t, ev, DefaultConfig(), Memory{}, RepoMemory{}); len(out.Actions) != 0 {
		t.Fatalf("without the bot's label nothing is to remove, got %+v", out.Actions)
	}
}

func TestMemoryRebase(t *testing.T) {
	opened := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	before := Memory{Commenters: map[string]int{"a": 1}}
	after := Memory{Commenters: map[string]int{"a": 2}, OpenedAt: opened}
	tests := []struct {
		name    string
		current Memory
		want    Memory
	}{
		{"nothing changed meanwhile", before, after},
		{"another field changed meanwhile: both kept",
			Memory{Commenters: map[string]int{"a": 1}, BotLabels: []string{"needs-triage"}},
			Memory{Commenters: map[string]int{"a": 2}, OpenedAt: opened, BotLabels: []string{"needs-triage"}}},
		{"the same field changed meanwhile: the event's value",
			Memory{Commenters: map[string]int{"a": 1, "b": 1}, Triaged: true},
			Memory{Commenters: map[string]int{"a": 2}, OpenedAt: opened, Triaged: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, after.Rebase(before, tt.current)); diff != "" {
				t.Errorf("Rebase (-want +got):\n%s", diff)
			}
		})
	}
}
