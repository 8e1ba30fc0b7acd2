package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/triagebot/triagebot/internal/ghfake"
)

// A newcomer who opens several issues at once is welcomed once. The issues are handled at
// the same time (each issue has its own line), and each used to read the repository's memory
// before any had recorded the author: the load tool's three issues per repository got three
// welcomes each.
func TestNewcomerOpeningIssuesAtOnceIsWelcomedOnce(t *testing.T) {
	const repo, issues = "octo-org/rocket", 6
	l, _ := startLocalT(t, localConfig{Fake: []ghfake.Option{ghfake.WithInstallation(7, "octo-org", repo)}})
	settle(t, l)
	for i := range issues {
		if _, err := l.Fake.OpenIssue(repo, "newbie", fmt.Sprintf("idea %d", i), "please"); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, l)
	welcomes := 0
	for n := 1; n <= issues; n++ {
		for _, c := range botComments(l, repo, n) {
			if strings.Contains(c, "Welcome") {
				welcomes++
			}
		}
		if is, _ := l.Fake.Issue(repo, n); len(is.Labels) != 1 {
			t.Errorf("issue %d: labels %v, want needs-triage", n, is.Labels)
		}
	}
	if welcomes != 1 {
		t.Errorf("@newbie opened %d issues at once and was welcomed %d times, want once", issues, welcomes)
	}
	// Afterwards, not again.
	n, err := l.Fake.OpenIssue(repo, "newbie", "one more", "please")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if c := botComments(l, repo, n); len(c) != 0 {
		t.Errorf("a later issue got %q", c)
	}
}
