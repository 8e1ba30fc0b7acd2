package main

import (
	"slices"
	"testing"
)

// TestNoFalseTriageEndToEnd (issue 12 §3) through ghfake: an auto-labeller's label
// (github-actions[bot]) is not triage; closing takes needs-triage off and reopening puts it
// back; a maintainer's label is triage.
func TestNoFalseTriageEndToEnd(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	repo, n := commandRepo(t, l) // alice's issue, labelled needs-triage; maya maintains
	has := func(label string) bool {
		is, _ := l.Fake.Issue(repo, n)
		return slices.Contains(is.Labels, label)
	}
	if err := l.Fake.AddLabel(repo, n, "github-actions[bot]", "area: api"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if !has("needs-triage") {
		t.Error("an auto-labeller's label removed needs-triage")
	}
	if err := l.Fake.CloseIssue(repo, n, "alice", "completed"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if has("needs-triage") {
		t.Error("closing left needs-triage on")
	}
	if err := l.Fake.ReopenIssue(repo, n, "alice"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if !has("needs-triage") {
		t.Error("reopening did not put needs-triage back")
	}
	if err := l.Fake.AddLabel(repo, n, "maya", "bug"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if has("needs-triage") {
		t.Error("a maintainer's label did not triage the issue")
	}
}
