package handlers_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// TestTransferKeepsTheMemory: an issue moved to another repository keeps what the bot knew of
// it (provenance, priority) under its new repository and number, joined with what the new
// issue's own events (delivered first) stored there.
func TestTransferKeepsTheMemory(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	w := newWorker(t, q, &fakeExecutor{}, "triagebot[bot]")
	ctx := context.Background()
	const oldRepo, newRepo = int64(17273051), int64(186853002) // transferred.json moves #1 to 186853002 as #1
	old := rules.Memory{BotLabels: []string{"priority: high"}, HumanRemoved: []string{"needs-triage"}, PriorityManual: true,
		Triaged: true, OpenedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), BotComments: []string{"code-of-conduct:welcome"}}
	if err := q.StoreMemory(ctx, queue.IssueKey(oldRepo, 1), old, 0); err != nil {
		t.Fatal(err)
	}
	// The new repository's opened event came first and put needs-triage on.
	if err := q.StoreMemory(ctx, queue.IssueKey(newRepo, 1), rules.Memory{BotLabels: []string{"needs-triage"}}, 0); err != nil {
		t.Fatal(err)
	}
	m := message(t, "issues", "issues/transferred.json", "moved")
	m.RepoID = oldRepo
	if err := w.Handle(ctx, m); err != nil {
		t.Fatal(err)
	}
	var got rules.Memory
	if _, err := q.LoadMemory(ctx, queue.IssueKey(newRepo, 1), &got); err != nil {
		t.Fatal(err)
	}
	want := old
	// A label a human took off is not the bot's, whatever the new repository's event said.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("memory under the new repository (-want +got):\n%s", diff)
	}
	// Handled again (a redelivery): nothing changes.
	if err := w.Handle(ctx, m); err != nil {
		t.Fatal(err)
	}
}
