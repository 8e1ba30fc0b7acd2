package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// countingStore counts memory writes per key prefix (repo.: a repository's records and its
// authors') and can make those writes conflict.
type countingStore struct {
	*queue.Queue
	issueWrites, repoWrites atomic.Int32
	repoAlwaysConflicts     bool
	// repoRacedBySame: the first repository write loses to another event that stored the
	// same value.
	repoRacedBySame bool
	// issueRaced: the first issue write loses to another writer of that issue's memory (the
	// backfill walk, a lifecycle check), which stored this memory first.
	issueRaced *rules.Memory
}

func (s *countingStore) StoreMemory(ctx context.Context, key string, v any, rev uint64) error {
	if strings.HasPrefix(key, "repo.") {
		s.repoWrites.Add(1)
		if s.repoAlwaysConflicts {
			return fmt.Errorf("store memory %s: %w", key, queue.ErrConflict)
		}
		if s.repoRacedBySame && s.repoWrites.Load() == 1 {
			if err := s.Queue.StoreMemory(ctx, key, v, rev); err != nil {
				return err
			}
			return fmt.Errorf("store memory %s: %w", key, queue.ErrConflict)
		}
	} else {
		s.issueWrites.Add(1)
		if s.issueRaced != nil && s.issueWrites.Load() == 1 {
			if err := s.Queue.StoreMemory(ctx, key, *s.issueRaced, rev); err != nil {
				return err
			}
			return fmt.Errorf("store memory %s: %w", key, queue.ErrConflict)
		}
	}
	return s.Queue.StoreMemory(ctx, key, v, rev)
}

// A memory record is written only when the event changed it: an edit that changes nothing
// the bot remembers writes nothing, so concurrent events of one repository do not conflict on
// records they did not change.
func TestMemoryIsWrittenOnlyWhenChanged(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	store := &countingStore{Queue: q}
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: &fakeExecutor{}, Config: handlers.StaticConfig(rules.DefaultConfig()), Store: store, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.Handle(ctx, message(t, "issues", "issues/opened.json", "open")); err != nil {
		t.Fatal(err)
	}
	issue, repo := store.issueWrites.Load(), store.repoWrites.Load()
	for i := range 3 {
		if err := w.Handle(ctx, message(t, "issues", "issues/edited.json", fmt.Sprintf("e-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if di, dr := store.issueWrites.Load()-issue, store.repoWrites.Load()-repo; di != 0 || dr != 0 {
		t.Fatalf("3 edits that change nothing wrote the issue's memory %d times and the repository's %d times", di, dr)
	}
}

// An author's record that cannot be created, and is not there when read (a store answering
// conflicts it should not), fails the event before its actions: it is tried again later, and
// nothing was done twice.
func TestAuthorClaimConflictDoesNotRepeatActions(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	store := &countingStore{Queue: q, repoAlwaysConflicts: true}
	exec := &fakeExecutor{}
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: exec, Config: handlers.StaticConfig(rules.DefaultConfig()), Store: store, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Handle(context.Background(), message(t, "issues", "issues/opened.json", "open"))
	if !errors.Is(err, queue.ErrConflict) {
		t.Fatalf("err = %v, want a conflict (the event is tried again)", err)
	}
	if len(exec.calls) != 0 || store.repoWrites.Load() < 2 {
		t.Fatalf("%d executions, %d repository writes; want none after retried writes", len(exec.calls), store.repoWrites.Load())
	}
	// Once the record settles, the retry does the event's actions, once.
	store.repoAlwaysConflicts = false
	if err := w.Handle(context.Background(), message(t, "issues", "issues/opened.json", "open")); err != nil {
		t.Fatal(err)
	}
	if len(exec.calls) != 1 {
		t.Fatalf("%d executions after the record settled, want 1", len(exec.calls))
	}
}

// Two events of one repository by the same new author: the one that loses the claim of their
// first issue finds it claimed, for its own issue here, and writes nothing more.
func TestAuthorClaimRaceWithTheSameClaimWritesOnce(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	store := &countingStore{Queue: q, repoRacedBySame: true}
	exec := &fakeExecutor{}
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: exec, Config: handlers.StaticConfig(rules.DefaultConfig()), Store: store, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(context.Background(), message(t, "issues", "issues/opened.json", "open")); err != nil {
		t.Fatal(err)
	}
	var claim struct {
		FirstIssue int `json:"first_issue"`
	}
	if _, err := q.LoadMemory(context.Background(), queue.AuthorKey(186853002, "Codertocat"), &claim); err != nil {
		t.Fatal(err)
	}
	if n := store.repoWrites.Load(); n != 1 || claim.FirstIssue != 1 || len(exec.calls) != 1 {
		t.Fatalf("%d repository writes, claim %+v, %d executions; want 1 write, issue 1 and 1 execution", n, claim, len(exec.calls))
	}
}

// The issue's memory changed under the worker's feet (the backfill walk labelled the issue
// while its opened event was handled): the event's actions are done, so it must not run again
// and post them again. What it changed is put on the newer memory, which keeps the rest.
func TestIssueMemoryConflictDoesNotRepeatActions(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	walked := rules.Memory{BotLabels: []string{"needs-triage"}, Commenters: map[string]int{"walker": 1}}
	store := &countingStore{Queue: q, issueRaced: &walked}
	exec := &fakeExecutor{}
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: exec, Config: handlers.StaticConfig(rules.DefaultConfig()), Store: store, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(context.Background(), message(t, "issues", "issues/opened.json", "open")); err != nil {
		t.Fatalf("err = %v: the event would be retried and its actions posted again", err)
	}
	if len(exec.calls) != 1 || store.issueWrites.Load() != 2 {
		t.Fatalf("%d executions, %d issue writes; want 1 execution and the write done again", len(exec.calls), store.issueWrites.Load())
	}
	var mem rules.Memory
	if _, err := q.LoadMemory(context.Background(), queue.IssueKey(186853002, 1), &mem); err != nil {
		t.Fatal(err)
	}
	if mem.OpenedAt.IsZero() || mem.Commenters["walker"] != 1 {
		t.Errorf("memory %+v: want the event's opened time on top of the walk's commenters", mem)
	}
}
