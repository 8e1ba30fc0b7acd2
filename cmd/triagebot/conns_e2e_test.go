package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/triagebot/triagebot/internal/ghfake"
)

// Every write used to open a new connection to GitHub (the label POST's answer was never read,
// so its connection could not be reused, and only 2 idle connections per host were kept).
// Connections are now reused: their number stays at the bot's concurrency, not its requests'.
func TestGitHubConnectionsAreReused(t *testing.T) {
	const repo = "octo-org/rocket"
	l, _ := startLocalT(t, localConfig{Fake: []ghfake.Option{ghfake.WithInstallation(7, "octo-org", repo)}})
	if err := l.Fake.SetAuthorAssociation(repo, "alice", "MEMBER"); err != nil {
		t.Fatal(err)
	}
	const issues = 60
	for i := range issues {
		if _, err := l.Fake.OpenIssue(repo, "alice", fmt.Sprintf("issue %d", i), "body"); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, l)
	writes := 0
	for _, r := range l.Fake.Requests() {
		if r.Method != http.MethodGet {
			writes++
		}
	}
	conns := l.Fake.Connections()
	t.Logf("%d requests (%d writes), %d connections accepted by the in-memory GitHub", len(l.Fake.Requests()), writes, conns)
	if writes < issues {
		t.Fatalf("%d writes, want at least one per issue", writes)
	}
	// 16 partitions write at once at most: a connection each, and a few for tokens and lookups.
	if conns > 24 {
		t.Errorf("%d connections for %d writes, want them reused (at most 24)", conns, writes)
	}
}
