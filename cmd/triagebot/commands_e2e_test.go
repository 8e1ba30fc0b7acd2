package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/internal/ghfake"
	"github.com/triagebot/triagebot/rules"
)

// commandRepo installs the App on a repository with a maintainer (maya) and opens an issue by
// alice, settled: the issue carries needs-triage.
func commandRepo(t *testing.T, l *local) (repo string, number int) {
	t.Helper()
	repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.SetPermission(repo, "maya", "maintain"); err != nil {
		t.Fatal(err)
	}
	n, err := l.Fake.OpenIssue(repo, "alice", "Crash when the config is empty", "Steps: run it.")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if is, _ := l.Fake.Issue(repo, n); !cmp.Equal(is.Labels, []string{"needs-triage"}) {
		t.Fatalf("labels after opening: %v", is.Labels)
	}
	return repo, n
}

// botReactions are the bot's reactions to a comment.
func botReactions(l *local, repo string, number int, commentID int64) []string {
	var out []string
	for _, c := range l.Fake.Comments(repo, number) {
		if c.ID != commentID {
			continue
		}
		for _, r := range c.Reactions {
			if r.User == l.Fake.BotLogin() {
				out = append(out, r.Content)
			}
		}
	}
	return out
}

func comment(t *testing.T, l *local, repo string, number int, user, body string) int64 {
	t.Helper()
	id, err := l.Fake.Comment(repo, number, user, body)
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	return id
}

func TestCommandsMaintainerTriagesFromComments(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	repo, n := commandRepo(t, l)

	id := comment(t, l, repo, n, "maya", "Thanks!\n/label bug\n/priority high\n/assign\n/triage")
	is, _ := l.Fake.Issue(repo, n)
	if diff := cmp.Diff([]string{"bug", "priority: high"}, sorted(is.Labels)); diff != "" {
		t.Errorf("labels after the commands (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"maya"}, is.Assignees); diff != "" {
		t.Errorf("assignees (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"+1"}, botReactions(l, repo, n, id)); diff != "" {
		t.Errorf("bot reactions to the commands (-want +got):\n%s", diff)
	}

	comment(t, l, repo, n, "maya", "/close not-planned")
	is, _ = l.Fake.Issue(repo, n)
	want := ghfake.Issue{State: "closed", StateReason: "not_planned", Labels: []string{"bug", "priority: high"}, Assignees: []string{"maya"}}
	got := ghfake.Issue{State: is.State, StateReason: is.StateReason, Labels: sorted(is.Labels), Assignees: is.Assignees}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("final state (-want +got):\n%s", diff)
	}
	// Every command ran: a reaction, no reply.
	for _, c := range botComments(l, repo, n) {
		if strings.Contains(c, "could not run") {
			t.Errorf("a reply to commands that all ran: %q", c)
		}
	}
}

func TestCommandsRefusedAreExplainedOnceDespiteRetries(t *testing.T) {
	l, _ := startLocalT(t, localConfig{
		Settings: func(s *settings) { s.MaxAttempts = 1000 },
		Start:    startOptions{backoff: func(int) time.Duration { return 2 * time.Millisecond }},
	})
	repo, n := commandRepo(t, l)

	// Half of GitHub's answers fail, and failing writes take effect first: the event is
	// retried after its reaction or reply was already posted.
	if err := l.Fake.SetFaults(ghfake.Faults{ErrorRate: 0.5, AppliedErrorRate: 1, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	id := comment(t, l, repo, n, "mallory", "/label wontfix\n/close")
	if err := l.Fake.SetFaults(ghfake.Faults{}); err != nil {
		t.Fatal(err)
	}
	// GitHub redelivers the same delivery as well.
	for _, d := range l.Fake.Deliveries() {
		if d.Event == "issue_comment" {
			if err := l.Fake.Redeliver(d.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	settle(t, l)

	if diff := cmp.Diff([]string{"confused"}, botReactions(l, repo, n, id)); diff != "" {
		t.Errorf("bot reactions (-want +got):\n%s", diff)
	}
	var replies []string
	for _, c := range botComments(l, repo, n) {
		if strings.Contains(c, "could not run") {
			replies = append(replies, c)
		}
	}
	if len(replies) != 1 {
		t.Fatalf("%d replies to the refused commands, want 1: %q", len(replies), replies)
	}
	for _, want := range []string{"@mallory", "/label", "/close"} {
		if !strings.Contains(replies[0], want) {
			t.Errorf("reply does not mention %q:\n%s", want, replies[0])
		}
	}
	is, _ := l.Fake.Issue(repo, n)
	if is.State != "open" || !cmp.Equal(is.Labels, []string{"needs-triage"}) {
		t.Fatalf("a refused command changed the issue: state %s, labels %v", is.State, is.Labels)
	}
	// The faults hit the feedback itself: a reaction or reply that landed was answered 5xx, so
	// the event was retried after it.
	landed := 0
	for _, r := range l.Fake.Requests() {
		if r.Method == "POST" && r.Status >= 500 && (strings.HasSuffix(r.Route, "/reactions") || strings.HasSuffix(r.Route, "/comments")) {
			landed++
		}
	}
	if landed == 0 {
		t.Fatal("no reaction or reply was answered 5xx: the test proves nothing with this seed")
	}
}

func TestCommandsWhyAnswersWithTheBotsHistory(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	repo, n := commandRepo(t, l)
	comment(t, l, repo, n, "maya", "/label bug")
	comment(t, l, repo, n, "alice", "/why")

	var answer string
	for _, c := range botComments(l, repo, n) {
		if strings.Contains(c, "What the bot did on this issue") {
			answer = c
		}
	}
	if answer == "" {
		t.Fatalf("no /why answer among the bot's comments: %q", botComments(l, repo, n))
	}
	for _, want := range []string{"| needs-triage | added `needs-triage` |", "| commands | added `bug` |", "removed `needs-triage`"} {
		if !strings.Contains(answer, want) {
			t.Errorf("/why answer lacks %q:\n%s", want, answer)
		}
	}
	if strings.Contains(answer, "unavailable") {
		t.Errorf("/why says the history is unavailable:\n%s", answer)
	}
}

func TestCommandsEditedCommentRunsOnlyAddedCommands(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	repo, n := commandRepo(t, l)
	id := comment(t, l, repo, n, "maya", "/label bug")
	// A maintainer takes bug off again by hand; the edit must not put it back.
	if err := l.Fake.RemoveLabel(repo, n, "maya", "bug"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if err := l.Fake.EditComment(repo, id, "maya", "/label bug\n/label documentation"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	is, _ := l.Fake.Issue(repo, n)
	if diff := cmp.Diff([]string{"documentation"}, sorted(is.Labels)); diff != "" {
		t.Fatalf("labels after the edit (-want +got):\n%s", diff)
	}
}

// TestCommandFloodEndToEnd is issue 8.5 through ghfake, which refuses what GitHub refuses (a
// comment over 65,536 characters, more than 100 labels on an issue): a maintainer's comment of
// 10,000 /label lines costs one label POST and one reply that says what was not run.
func TestCommandFloodEndToEnd(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	repo, n := commandRepo(t, l)
	lines := make([]string, 10000)
	for i := range lines {
		lines[i] = fmt.Sprintf("/label l%d", i+1)
	}
	l.Fake.ResetRequests()
	comment(t, l, repo, n, "maya", strings.Join(lines, "\n"))

	is, _ := l.Fake.Issue(repo, n)
	if len(is.Labels) != rules.MaxCommandsPerComment {
		t.Errorf("%d labels on the issue, want %d: %v", len(is.Labels), rules.MaxCommandsPerComment, is.Labels)
	}
	posts := 0
	for _, r := range l.Fake.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Route, "/labels") {
			posts++
		}
		if r.Status >= 400 {
			t.Errorf("GitHub refused %s %s: %d", r.Method, r.Path, r.Status)
		}
	}
	if posts != 1 {
		t.Errorf("%d label POSTs, want 1", posts)
	}
	var reply string
	for _, c := range botComments(l, repo, n) {
		if strings.Contains(c, "could not run") {
			reply = c
		}
	}
	if !strings.Contains(reply, "9980 more commands in this comment were not run") {
		t.Errorf("the reply does not say what was refused:\n%.500s", reply)
	}
}
