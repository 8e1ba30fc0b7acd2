package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The issue's reproduction: an issue is opened and triaged by a maintainer, serve restarts on
// the same data directory, and GitHub delivers the issues.opened delivery again (a redelivery
// keeps the delivery id). It must be answered 202 and change nothing (stored again, it is skipped
// by the worker's ledger check): before the delivery ledger, the restarted server had forgotten
// the id and needs-triage came back.
func TestRedeliveryAfterRestartIsNotHandledAgain(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	repo, n := commandRepo(t, l)
	comment(t, l, repo, n, "maya", "/label accepted")
	if is, _ := l.Fake.Issue(repo, n); !cmp.Equal(is.Labels, []string{"accepted"}) {
		t.Fatalf("labels after /label accepted: %v", is.Labels)
	}
	var opened int64
	for _, d := range l.Fake.Deliveries() {
		if d.Event == "issues" && d.Action == "opened" {
			opened = d.ID
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := l.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	before := len(l.Fake.Deliveries())
	if err := l.Fake.Redeliver(opened); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	again := l.Fake.Deliveries()[before]
	if again.StatusCode != http.StatusAccepted {
		t.Fatalf("redelivery answered %d", again.StatusCode)
	}
	if is, _ := l.Fake.Issue(repo, n); !cmp.Equal(is.Labels, []string{"accepted"}) {
		t.Errorf("labels after the redelivery: %v, want [accepted] (the redelivery was handled again)", is.Labels)
	}
	if got := len(botComments(l, repo, n)); got != 1 {
		t.Errorf("%d bot comments, want the one welcome", got)
	}
}
