package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zapcore"

	"github.com/triagebot/triagebot/internal/ghfake"
)

// A configuration file over 1 MB (GitHub serves it with encoding "none") used to dead-letter
// every event of the repository. It is refused like a broken file: the defaults (or its last
// good version) are used, the event is handled, the problem is logged once, audited, and /why
// names it.
func TestOversizedConfigurationNeverSilencesTheRepository(t *testing.T) {
	const repo = "octo-org/rocket"
	// Installed before the bot ran: nothing of the repository is cached.
	l, logs := startLocalT(t, localConfig{Fake: []ghfake.Option{ghfake.WithInstallation(7, "octo-org", repo)}})
	huge := "needs_triage:\n  label: huge\n" + strings.Repeat("# a comment that pads the file out\n", 36000) // ~1.2 MB
	if err := l.Fake.PutFile(repo, ".github/triagebot.yml", []byte(huge)); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	var numbers []int
	for _, title := range []string{"first", "second"} {
		n, err := l.Fake.OpenIssue(repo, "alice", title, "body")
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, n)
	}
	settle(t, l)
	assertNoDeadLetters(t, l)
	for _, n := range numbers {
		is, _ := l.Fake.Issue(repo, n)
		if diff := cmp.Diff([]string{"needs-triage"}, is.Labels); diff != "" {
			t.Errorf("issue %d labels (-want +got):\n%s", n, diff)
		}
	}
	warned := logs.FilterMessage("configuration file cannot be used: keeping the last good one, else the defaults").FilterLevelExact(zapcore.WarnLevel).All()
	if len(warned) != 1 || !strings.Contains(warned[0].ContextMap()["problem"].(string), "at most 256 KiB") {
		t.Errorf("%d warnings about the file, want one naming the limit: %v", len(warned), warned)
	}
	trail, err := l.App.q.AuditTrail(context.Background(), l.Fake.RepositoryID(repo), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range trail {
		found = found || strings.Contains(string(r), "at most 256 KiB")
	}
	if !found {
		t.Errorf("no audit record names the problem; repository trail: %s", trail)
	}

	if err := l.Fake.SetPermission(repo, "maya", "triage"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Fake.Comment(repo, numbers[0], "maya", "/why"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	c := botComments(l, repo, numbers[0])
	if len(c) == 0 || !strings.Contains(c[len(c)-1], "at most 256 KiB") {
		t.Errorf("/why does not name the configuration problem: %q", c)
	}
}
