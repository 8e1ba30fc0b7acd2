package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/ghfake"
)

func labelsOf(l *local, repo string) map[string]ghfake.Label {
	out := map[string]ghfake.Label{}
	for _, lb := range l.Fake.Labels(repo) {
		out[lb.Name] = lb
	}
	return out
}

// A repository that already uses `needs triage` gets no second label `needs-triage`: the bot
// adopts its label (saying so in the log and the audit trail) and uses it; the labels: section
// sets its colour.
func TestExistingLabelIsAdoptedAndConfiguredColoursApplied(t *testing.T) {
	const repo = "octo-org/rocket"
	l, logs := startLocalT(t, localConfig{Fake: []ghfake.Option{ghfake.WithInstallation(7, "octo-org", repo)}})
	if err := l.Fake.CreateLabel(repo, "needs triage", "ededed", ""); err != nil {
		t.Fatal(err)
	}
	cfg := "labels:\n  - {name: needs-triage, color: 5319e7, description: Waiting for a maintainer}\n"
	if err := l.Fake.PutFile(repo, ".github/triagebot.yml", []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	n, err := l.Fake.OpenIssue(repo, "alice", "first", "body")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	assertNoDeadLetters(t, l)
	is, _ := l.Fake.Issue(repo, n)
	if diff := cmp.Diff([]string{"needs triage"}, is.Labels); diff != "" {
		t.Errorf("issue labels (-want +got):\n%s", diff)
	}
	labels := labelsOf(l, repo)
	if _, twice := labels["needs-triage"]; twice {
		t.Errorf("a second label needs-triage was created: %v", labels)
	}
	if got := labels["needs triage"]; got.Color != "5319e7" || got.Description != "Waiting for a maintainer" {
		t.Errorf("adopted label %+v, want the configured colour and description", got)
	}
	for _, name := range []string{"priority: high", "priority: medium", "priority: low"} {
		if labels[name].Color == "" || labels[name].Color == labels["needs triage"].Color {
			t.Errorf("label %q: %+v", name, labels[name])
		}
	}
	if logs.FilterMessageSnippet("label adopted").Len() == 0 {
		t.Error("no log line says the label was adopted")
	}
	trail, err := l.App.q.AuditTrail(context.Background(), l.Fake.RepositoryID(repo), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(joinRaw(trail)), `adopted for \"needs-triage\"`) {
		t.Errorf("the audit trail does not record the adoption: %s", joinRaw(trail))
	}
}

// A change of the organisation's .github defaults reaches every repository of the installation,
// as GitHub lists them (GET /installation/repositories): also one the bot never saw an event of,
// and so never loaded a configuration for (issue 12 §4).
func TestOrganisationDefaultsReachEveryRepository(t *testing.T) {
	repos := []string{"octo-org/rocket", "octo-org/comet"}
	const quiet = "octo-org/quiet"
	l, _ := startLocalT(t, localConfig{Fake: []ghfake.Option{ghfake.WithInstallation(7, "octo-org", append(repos, "octo-org/.github", quiet)...)}})
	for _, r := range repos {
		if _, err := l.Fake.OpenIssue(r, "alice", "hello", "body"); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, l)
	ctx := context.Background()
	if _, err := l.App.q.ConfigBucket().Get(ctx, ghapp.ConfigKey("octo-org", "quiet")); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("the bot knew %s before the change (its configuration cached: %v)", quiet, err)
	}
	cfg := "priority:\n  levels:\n    - {label: P1, at: 9}\n    - {label: P2, at: 5}\n"
	if err := l.Fake.PutFile("octo-org/.github", ".github/triagebot.yml", []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	assertNoDeadLetters(t, l)
	for _, r := range append(repos, quiet) {
		labels := labelsOf(l, r)
		for _, name := range []string{"P1", "P2"} {
			if labels[name].Color == "" {
				t.Errorf("%s: label %s missing after the organisation's defaults changed: %v", r, name, labels)
			}
		}
	}
	trail, err := l.App.q.AuditTrail(ctx, l.Fake.RepositoryID(quiet), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(joinRaw(trail)), "the organisation's defaults changed") {
		t.Errorf("%s's audit trail does not record the labels created: %s", quiet, joinRaw(trail))
	}
	if labels := labelsOf(l, "octo-org/.github"); labels["P1"].Color != "" {
		t.Errorf("the .github repository itself got the labels: %v", labels)
	}
}

func joinRaw[T ~[]byte](recs []T) []byte {
	var out []byte
	for _, r := range recs {
		out = append(append(out, r...), '\n')
	}
	return out
}
