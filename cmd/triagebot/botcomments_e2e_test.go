package main

import (
	"slices"
	"testing"

	"github.com/triagebot/triagebot/internal/notify"
)

// TestNotificationCommentsAreTheBots (issue 12 §5): the github notification channel comments
// on the issue outside the rules; those comments are the bot's and do not count towards the
// priority score (observed: 2 human + 2 bot comments scored 3, reaching "priority: low").
func TestNotificationCommentsAreTheBots(t *testing.T) {
	cfg := serverConfig(t, `
channels:
  team:
    type: github
    mention: ["@octo-org/maintainers"]
    digest: 0
`)
	l, _ := startLocalT(t, localConfig{Settings: func(s *settings) { s.ConfigFile = cfg }})
	repo := notifyRepo(t, l, `
    - on: issue_opened
      to: [team]
    - on: labeled
      to: [team]
`)
	n, err := l.Fake.OpenIssue(repo, "alice", "Crash on start", "It crashes.")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if err := l.Fake.AddLabel(repo, n, "maya", "bug"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	l.App.dispatcher.FlushNow()
	waitFor(t, "the notification stream to empty", streamEmpty(t, l, notify.Stream))
	waitFor(t, "two notification comments", func() bool { return len(botComments(l, repo, n)) >= 3 }) // welcome + 2
	settle(t, l)
	comment(t, l, repo, n, "bob", "Same here.")
	comment(t, l, repo, n, "carol", "Me too.")

	is, _ := l.Fake.Issue(repo, n)
	if slices.Contains(is.Labels, "priority: low") {
		t.Errorf("2 people's comments reached priority: low (at 3); labels %v, bot comments %d", is.Labels, len(botComments(l, repo, n)))
	}
}
