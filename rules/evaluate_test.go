package rules

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// TestEvaluateNeverPanics: the worker calls Evaluate for every event; nil fields anywhere, typed
// nil payloads and events of no issue must give no actions and no panic.
func TestEvaluateNeverPanics(t *testing.T) {
	tests := []struct {
		name string
		give Event
	}{
		{name: "nil payload", give: Event{Name: "issues"}},
		{name: "typed nil issues", give: Event{Name: "issues", Payload: (*github.IssuesEvent)(nil)}},
		{name: "typed nil comment", give: Event{Name: "issue_comment", Payload: (*github.IssueCommentEvent)(nil)}},
		{name: "empty issues", give: Event{Name: "issues", Payload: &github.IssuesEvent{}}},
		{name: "empty comment", give: Event{Name: "issue_comment", Payload: &github.IssueCommentEvent{}}},
		{name: "issue with nothing", give: Event{Name: "issues", Payload: &github.IssuesEvent{Action: github.String("opened"), Issue: &github.Issue{}}}},
		{name: "labeled with nothing", give: Event{Name: "issues", Payload: &github.IssuesEvent{Action: github.String("labeled"), Issue: &github.Issue{}}}},
		{name: "assigned with nothing", give: Event{Name: "issues", Payload: &github.IssuesEvent{Action: github.String("assigned"), Issue: &github.Issue{}}}},
		{name: "edited with nothing", give: Event{Name: "issues", Payload: &github.IssuesEvent{Action: github.String("edited"), Issue: &github.Issue{}}}},
		{name: "comment without comment", give: Event{Name: "issue_comment", Payload: &github.IssueCommentEvent{Action: github.String("created"), Issue: &github.Issue{State: github.String("open")}}}},
		{name: "comment edited without changes", give: Event{Name: "issue_comment", Payload: &github.IssueCommentEvent{Action: github.String("edited"), Issue: &github.Issue{}, Comment: &github.IssueComment{}}}},
		{name: "push", give: Event{Name: "push", Payload: &github.PushEvent{}}},
		{name: "installation", give: Event{Name: "installation", Payload: &github.InstallationEvent{}}},
		{name: "unknown payload type", give: Event{Name: "x", Payload: 42}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Priority.Score = ScoreCommentsAndReactions
			cfg.Notifications.Routes = []Route{{On: RouteIssueOpened, To: []string{"x"}}}
			out, err := Evaluate(context.Background(), Input{Event: tt.give, Config: cfg, Lookup: &fakeLookup{}})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range out.Actions {
				if a.Rule == "" || a.Reason == "" {
					t.Errorf("action without rule or reason: %+v", a)
				}
			}
		})
	}
}

// TestEvaluateAllPayloads runs every real payload through the rules, as the bot and as a human.
func TestEvaluateAllPayloads(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "webhooks", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no payloads: %v", err)
	}
	for _, f := range files {
		event := filepath.Base(filepath.Dir(f))
		t.Run(event+"/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := github.ParseWebHook(event, data)
			if err != nil {
				t.Fatal(err)
			}
			human := evaluate(t, Event{Name: event, Payload: p}, DefaultConfig(), Memory{}, RepoMemory{})
			for _, a := range human.Actions {
				if a.Rule == "" || a.Reason == "" || a.Repo == "" || a.Number == 0 {
					t.Errorf("incomplete action: %+v", a)
				}
			}
			// Every one of these payloads was sent by Codertocat: as the bot, nothing happens.
			out, err := Evaluate(context.Background(), Input{Event: Event{Name: event, Payload: p}, Config: DefaultConfig(), BotLogin: "CODERTOCAT"})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Actions) != 0 {
				t.Errorf("the bot's own event triggered %+v", out.Actions)
			}
		})
	}
}

// TestBotEventsOnlyUpdateMemory: the bot's own comment is remembered, so it never counts, and
// forgotten when someone deletes it.
func TestBotEventsOnlyUpdateMemory(t *testing.T) {
	remembered := Memory{BotComments: []string{"code-of-conduct:welcome"}} // as the rule decided to post it
	tests := []struct {
		name        string
		body        string
		wantCreated []string
		wantDeleted []string
	}{
		{
			name: "with the executor's marker: not counted twice", body: "Welcome!\n<!-- triagebot:code-of-conduct:welcome -->",
			wantCreated: []string{"code-of-conduct:welcome"}, wantDeleted: []string{},
		},
		{
			name: "without a marker", body: "Hello",
			wantCreated: []string{"code-of-conduct:welcome", "id:492700400"}, wantDeleted: []string{"code-of-conduct:welcome"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created := comment(t, "created.json", func(e *github.IssueCommentEvent) {
				e.Comment.User = user(testBot)
				e.Comment.Body = github.String(tt.body)
				e.Sender = user("TriageBot[bot]")
			})
			out := evaluate(t, created, DefaultConfig(), remembered, RepoMemory{})
			if len(out.Actions) != 0 {
				t.Errorf("actions %+v, want none", out.Actions)
			}
			if diff := cmp.Diff(tt.wantCreated, out.Memory.BotComments); diff != "" {
				t.Errorf("bot comments (-want +got):\n%s", diff)
			}
			deleted := comment(t, "deleted.json", func(e *github.IssueCommentEvent) {
				e.Comment.ID = github.Int64(492700400)
				e.Comment.User = user(testBot)
				e.Comment.Body = github.String(tt.body)
			})
			out = evaluate(t, deleted, DefaultConfig(), out.Memory, RepoMemory{})
			if diff := cmp.Diff(tt.wantDeleted, out.Memory.BotComments); diff != "" {
				t.Errorf("bot comments after deletion (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEvaluateDoesNotChangeItsInput: the worker may retry with the same input.
func TestEvaluateDoesNotChangeItsInput(t *testing.T) {
	mem := Memory{BotLabels: []string{"needs-triage", "x"}, HumanRemoved: []string{"a", "b"}, Commenters: map[string]int{"codertocat": 1}}
	repo := RepoMemory{Authors: []string{"someone"}}
	memBefore, _ := json.Marshal(mem)
	repoBefore, _ := json.Marshal(repo)
	for _, ev := range []Event{
		issues(t, "unlabeled.json", func(e *github.IssuesEvent) { e.Label.Name = github.String("x") }),
		issues(t, "labeled.json", func(e *github.IssuesEvent) { e.Label.Name = github.String("a") }),
		issues(t, "opened.json", nil),
		comment(t, "deleted.json", nil),
	} {
		evaluate(t, ev, DefaultConfig(), mem, repo)
	}
	memAfter, _ := json.Marshal(mem)
	repoAfter, _ := json.Marshal(repo)
	if string(memBefore) != string(memAfter) || string(repoBefore) != string(repoAfter) {
		t.Errorf("Evaluate changed its input:\n%s\n%s\n%s\n%s", memBefore, memAfter, repoBefore, repoAfter)
	}
}

func TestMemoryJSON(t *testing.T) {
	give := Memory{BotLabels: []string{"needs-triage"}, HumanRemoved: []string{"priority: low"}, Triaged: true,
		BotComments: []string{"code-of-conduct:welcome", "id:2"}, Commenters: map[string]int{"ana": 2}, Reminded: []string{"troll"}, PriorityManual: true}
	data, err := json.Marshal(give)
	if err != nil {
		t.Fatal(err)
	}
	var got Memory
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(give, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if data, _ := json.Marshal(Memory{}); string(data) != "{}" {
		t.Errorf("empty memory = %s, want {}", data)
	}
}

func TestMemoryOpenedAt(t *testing.T) {
	out := evaluate(t, issues(t, "opened.json", nil), DefaultConfig(), Memory{}, RepoMemory{})
	if got, want := out.Memory.OpenedAt.Format(time.RFC3339), "2019-05-15T15:20:18Z"; got != want {
		t.Errorf("opened at %s, want %s (the payload's created_at)", got, want)
	}
}

func TestLevelName(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{give: "priority: high", want: "high"},
		{give: "priority/Medium", want: "medium"},
		{give: "P1", want: "p1"},
		{give: "kind: priority: low ", want: "low"},
	}
	for _, tt := range tests {
		if got := (Level{Label: tt.give}).Name(); got != tt.want {
			t.Errorf("Level{%q}.Name() = %q, want %q", tt.give, got, tt.want)
		}
	}
}
