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

// The same across many installations at once: their events are handled concurrently, so the
// idle pool must keep a connection per concurrent request. The transport that counts requests
// for /metrics once replaced the pooled one with Go's default (2 idle connections per host),
// and every burst past two requests dialled again (8,956 connections for 19,964 requests in
// the load tool's -ghfake run).
func TestGitHubConnectionsAreReusedAcrossInstallations(t *testing.T) {
	const installations, issues = 40, 3
	var fake []ghfake.Option
	for i := range installations {
		fake = append(fake, ghfake.WithInstallation(int64(100+i), fmt.Sprintf("org-%d", i), fmt.Sprintf("org-%d/repo", i)))
	}
	l, _ := startLocalT(t, localConfig{Fake: fake})
	settle(t, l)
	for round := range issues {
		for i := range installations {
			if _, err := l.Fake.OpenIssue(fmt.Sprintf("org-%d/repo", i), "octocat", fmt.Sprintf("issue %d", round), "body"); err != nil {
				t.Fatal(err)
			}
		}
	}
	before, reqs := l.Fake.Connections(), len(l.Fake.Requests())
	settle(t, l)
	conns, reqs := l.Fake.Connections()-before, len(l.Fake.Requests())-reqs
	t.Logf("%d requests, %d new connections accepted by the in-memory GitHub", reqs, conns)
	if reqs < installations*issues {
		t.Fatalf("%d requests, want at least one per issue", reqs)
	}
	// At most one event per installation is handled at a time, each making one request at a
	// time (its look-ups in parallel: a few): the pool needs about that many connections.
	if limit := installations * 4; conns > int64(limit) {
		t.Errorf("%d new connections for %d requests, want them reused (at most %d)", conns, reqs, limit)
	}
}
