package rules

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-github/v60/github"
)

const testBot = "triagebot[bot]"

// payload decodes one of the real webhook payloads in testdata/webhooks, then lets the test edit
// it (labels, comment count, association, body, ...).
func payload[T any](t testing.TB, event, file string, edit func(T)) T {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "webhooks", event, file))
	if err != nil {
		t.Fatal(err)
	}
	p, err := github.ParseWebHook(event, data)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := p.(T)
	if !ok {
		t.Fatalf("%s/%s decodes to %T", event, file, p)
	}
	if edit != nil {
		edit(v)
	}
	return v
}

func issues(t testing.TB, file string, edit func(*github.IssuesEvent)) Event {
	return Event{Name: "issues", DeliveryID: "d-" + file, Payload: payload(t, "issues", file, edit)}
}

func comment(t testing.TB, file string, edit func(*github.IssueCommentEvent)) Event {
	return Event{Name: "issue_comment", DeliveryID: "d-" + file, Payload: payload(t, "issue_comment", file, edit)}
}

func labels(names ...string) []*github.Label {
	out := make([]*github.Label, len(names))
	for i, n := range names {
		out[i] = &github.Label{Name: github.String(n)}
	}
	return out
}

func user(login string) *github.User {
	return &github.User{Login: github.String(login), Type: github.String("User")}
}

// evaluate runs the rules with the test bot and no Lookup, failing the test on an error.
func evaluate(t testing.TB, ev Event, cfg Config, mem Memory, repo RepoMemory) Outcome {
	t.Helper()
	out, err := Evaluate(context.Background(), Input{Event: ev, Config: cfg, Memory: mem, Repo: repo, BotLogin: testBot})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// labelNames lists the names of labels.
func labelNames(ls []*github.Label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	return out
}
