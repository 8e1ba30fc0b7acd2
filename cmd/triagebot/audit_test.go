package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/queue"
)

func TestAuditPrintsEverySideEffect(t *testing.T) {
	chat := newChatServer(t)
	cfg := serverConfig(t, "channels:\n  ops:\n    type: webhook\n    url: "+chat.URL+"/hooks/secret-token\n    digest: 0s\n")
	l, _ := startLocalT(t, localConfig{Settings: func(s *settings) { s.ConfigFile = cfg }})
	repo := notifyRepo(t, l, "    - {on: issue_opened, to: [ops]}\n")
	n, err := l.Fake.OpenIssue(repo, "alice", "Support SSO login", "Please.")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	// The notification's record is written once the channel took it.
	waitFor(t, "the notification's audit record", func() bool {
		found := false
		_ = l.App.q.ScanAudit(context.Background(), queue.AuditScan{}, func(e queue.AuditEntry) bool {
			found = found || strings.Contains(string(e.Data), handlers.AuditNotificationSent)
			return !found
		})
		return found
	})
	dir := l.App.s.DataDir
	if err := l.App.shutdown(); err != nil { // the embedded store is one process's
		t.Fatal(err)
	}
	l.App = nil
	t.Setenv("TRIAGEBOT_DATA_DIR", dir)

	code, out, errOut := runCmd(t, "audit", repo)
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, errOut)
	}
	// The labels are created once, at installation, or after the configuration push that raced it
	// (another partition): either way each one has its record.
	var created string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "create_label") && (strings.Contains(line, "installation") || strings.Contains(line, "configuration")) {
			created += line
		}
	}
	for _, label := range []string{"needs-triage", "priority: high", "priority: medium", "priority: low"} {
		if !strings.Contains(created, label) {
			t.Errorf("no create_label record names %q:\n%s", label, out)
		}
	}
	for _, want := range []string{
		"TIME", repo + "#1", "add_labels needs-triage", "new issue",
		"notification_sent ops", "webhook channel ops, route issue_opened", // sent, not only enqueued
	} {
		if !strings.Contains(out, want) {
			t.Errorf("audit output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret-token") || strings.Contains(out, chat.URL) {
		t.Errorf("audit output shows the channel's URL:\n%s", out)
	}

	code, out, errOut = runCmd(t, "audit", "OCTO-ORG/Rocket#1", "--json", "--since", "1h")
	if code != 0 {
		t.Fatalf("audit --json: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	types := map[string]bool{}
	for _, line := range lines {
		var rec handlers.AuditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON record: %q: %v", line, err)
		}
		if rec.Number != n {
			t.Errorf("#%d filter gave a record of #%d", n, rec.Number)
		}
		types[string(rec.Result.Action.Type)] = true
	}
	if !types["add_labels"] || !types[handlers.AuditNotificationSent] || types[handlers.AuditCreateLabel] {
		t.Errorf("action types of #1: %v", types)
	}

	for _, tt := range []struct {
		give []string
		want string
	}{
		{[]string{"audit"}, `expected "<OWNER/REPO[#N]>" (see 'triagebot audit --help')`},
		{[]string{"audit", "octo-org"}, `audit: "octo-org" is not OWNER/REPO or OWNER/REPO#N`},
		{[]string{"audit", "o/r#x"}, `audit: "o/r#x": the issue number "x" is not a positive number`},
		{[]string{"audit", "o/r", "--since", "0"}, `--since: "0" is not a positive duration such as 24h or 7d`},
		{[]string{"audit", "o/r", "--since"}, "--since: expected string value"},
		{[]string{"audit", "o/r", "--data-dir", t.TempDir()}, "TRIAGEBOT_DATA_DIR: no triagebot store in"},
	} {
		code, _, errOut := runCmd(t, tt.give...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, %q; want 2 and %q", tt.give, code, errOut, tt.want)
		}
	}
}
