package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func startLocalT(t *testing.T, cfg localConfig) (*local, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	cfg.Dir = t.TempDir()
	cfg.Log = zap.New(core)
	l, err := startLocal(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			for _, e := range logs.All() {
				if e.Level >= zapcore.WarnLevel {
					t.Logf("%s %s %v", e.Level, e.Message, e.ContextMap())
				}
			}
		}
	})
	return l, logs
}

func settle(t *testing.T, l *local) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := l.Settle(ctx); err != nil {
		t.Fatal(err)
	}
}

func botComments(l *local, repo string, number int) []string {
	var out []string
	for _, c := range l.Fake.Comments(repo, number) {
		if c.User == l.Fake.BotLogin() {
			out = append(out, c.Body)
		}
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestEndToEndThroughTheInMemoryGitHub(t *testing.T) {
	l, logs := startLocalT(t, localConfig{})
	const repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	var repoLabels []string
	for _, lb := range l.Fake.Labels(repo) {
		repoLabels = append(repoLabels, lb.Name)
	}
	for _, want := range []string{"needs-triage", "priority: high", "priority: medium", "priority: low"} {
		if !slices.Contains(repoLabels, want) {
			t.Errorf("installation did not create label %q; repository has %v", want, repoLabels)
		}
	}

	if err := l.Fake.PutFile(repo, "CODE_OF_CONDUCT.md", []byte("# Be kind\n")); err != nil {
		t.Fatal(err)
	}
	n, err := l.Fake.OpenIssue(repo, "alice", "Support SSO login", "It would help our team a lot.")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	is, _ := l.Fake.Issue(repo, n)
	if diff := cmp.Diff([]string{"needs-triage"}, is.Labels); diff != "" {
		t.Fatalf("labels after opening (-want +got):\n%s", diff)
	}
	if c := botComments(l, repo, n); len(c) != 1 || !strings.Contains(c[0], "CODE_OF_CONDUCT.md") || !strings.Contains(c[0], "@alice") {
		t.Fatalf("bot comments after a first-time author opened an issue: %q", c)
	}

	for i := 1; i <= 3; i++ {
		if _, err := l.Fake.Comment(repo, n, fmt.Sprintf("fan%d", i), "We need this too."); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, l)
	is, _ = l.Fake.Issue(repo, n)
	if diff := cmp.Diff([]string{"needs-triage", "priority: low"}, sorted(is.Labels)); diff != "" {
		t.Fatalf("labels after 3 comments (-want +got):\n%s", diff)
	}

	if err := l.Fake.SetPermission(repo, "maya", "maintain"); err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.AddLabel(repo, n, "maya", "enhancement"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	is, _ = l.Fake.Issue(repo, n)
	if diff := cmp.Diff([]string{"enhancement", "priority: low"}, sorted(is.Labels)); diff != "" {
		t.Fatalf("labels after a maintainer labelled it (-want +got):\n%s", diff)
	}
	if c := botComments(l, repo, n); len(c) != 1 {
		t.Fatalf("%d bot comments, want the one welcome: %q", len(c), c)
	}
	// Every change the bot made came back as a webhook and was skipped, not acted on.
	own := logs.FilterMessage("event skipped: caused by the bot itself").Len()
	if own < 3 {
		t.Fatalf("%d of the bot's own events were skipped, want at least 3 (label, comment, label, unlabel)", own)
	}
	for _, d := range l.Fake.Deliveries() {
		if d.StatusCode != 202 {
			t.Errorf("delivery %s %s.%s answered %d", d.GUID, d.Event, d.Action, d.StatusCode)
		}
	}
}

func TestGitHubEnterpriseStylePrefixIsUsedForEverything(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	if _, err := l.Fake.InstallApp("octo-org", "octo-org/rocket"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Fake.OpenIssue("octo-org/rocket", "alice", "t", "b"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	stats := l.Fake.RequestStats()
	if stats.Total == 0 || stats.ByEndpoint["POST /app/installations/{installation_id}/access_tokens"] == 0 {
		t.Fatalf("no App or installation requests reached the prefixed API: %+v", stats)
	}
}

// A configuration pushed after installation names new labels: they are created with their
// colour and description before the bot first uses them.
func TestConfigPushCreatesTheLabelsItNames(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	const repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	cfg := "needs_triage: {label: \"status: untriaged\"}\npriority:\n  levels:\n    - {label: P1, at: 9}\n    - {label: P2, at: 5}\n"
	if err := l.Fake.PutFile(repo, ".github/triagebot.yml", []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	got := map[string]bool{}
	for _, lb := range l.Fake.Labels(repo) {
		got[lb.Name] = lb.Color != "" && lb.Description != ""
	}
	for _, name := range []string{"status: untriaged", "P1", "P2"} {
		if !got[name] {
			t.Errorf("label %q missing or without colour and description; repository labels: %v", name, l.Fake.Labels(repo))
		}
	}
}
