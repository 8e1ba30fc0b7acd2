package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/triagebot/triagebot/internal/notify"
)

// TestSecurityReportEndToEnd (issue 12 §1): a stranger files a vulnerability report as a public
// issue. The text goes privately to the security channel (a webhook; the github channel on the
// same route is skipped), the bot links the repository's security.md (lower case, in .github/)
// and private vulnerability reporting, labels, locks and redacts the issue; a maintainer's
// /not-security takes the label and the lock off.
func TestSecurityReportEndToEnd(t *testing.T) {
	chat := newChatServer(t)
	cfg := serverConfig(t, `
channels:
  sec:
    type: webhook
    url: `+chat.URL+`/hooks/secret-token
    digest: 0
  team:
    type: github
    mention: ["@octo-org/maintainers"]
    digest: 0
`)
	l, _ := startLocalT(t, localConfig{Settings: func(s *settings) { s.ConfigFile = cfg }})
	const repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	for path, body := range map[string]string{
		".github/triagebot.yml": "security: {lock: true, redact: true}\nnotifications:\n  routes:\n    - {on: security, to: [sec, team]}\n",
		".github/security.md":   "Mail security@example.org.\n",
	} {
		if err := l.Fake.PutFile(repo, path, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Fake.SetPermission(repo, "maya", "maintain"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	const secret = "POST /api/login with user=admin'-- gives an admin session"
	n, err := l.Fake.OpenIssue(repo, "mallory", "SQL injection in the login form", "An attacker can log in as anyone: "+secret)
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)

	is, _ := l.Fake.Issue(repo, n)
	if !is.Locked || !strings.Contains(is.Body, "removed by triagebot") || strings.Contains(is.Body, secret) {
		t.Errorf("issue not locked and redacted: locked %v, body %q", is.Locked, is.Body)
	}
	if !slices.Contains(is.Labels, "security-report") {
		t.Errorf("labels %v lack security-report", is.Labels)
	}
	var guard string
	for _, c := range botComments(l, repo, n) {
		if strings.Contains(c, "security vulnerability") {
			guard = c
		}
		if strings.Contains(c, secret) {
			t.Errorf("a bot comment repeats the report in public:\n%s", c)
		}
	}
	for _, w := range []string{"/blob/main/.github/security.md", "/" + repo + "/security/advisories/new"} {
		if !strings.Contains(guard, w) {
			t.Errorf("the comment lacks %q:\n%s", w, guard)
		}
	}
	waitFor(t, "the security notification", func() bool { return len(chat.payloads()) >= 1 })
	l.App.dispatcher.FlushNow()
	waitFor(t, "the notification stream to empty", streamEmpty(t, l, notify.Stream))
	var texts []string
	for _, p := range chat.payloads() {
		for _, it := range p.Items {
			texts = append(texts, it.Text)
		}
	}
	if len(texts) != 1 || !strings.Contains(texts[0], secret) {
		t.Errorf("the security channel did not get the report's text: %q", texts)
	}

	comment(t, l, repo, n, "maya", "/not-security")
	is, _ = l.Fake.Issue(repo, n)
	if is.Locked || slices.Contains(is.Labels, "security-report") {
		t.Errorf("after /not-security: locked %v, labels %v", is.Locked, is.Labels)
	}
}
