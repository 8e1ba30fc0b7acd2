package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// electionStore fails the first audit write as JetStream does during a leader election: with
// the record stored and the answer lost (stored true), or not stored at all.
type electionStore struct {
	*queue.Queue
	stored bool
	failed bool
}

func (s *electionStore) Audit(ctx context.Context, repoID int64, number int, record any) error {
	if s.failed {
		return s.Queue.Audit(ctx, repoID, number, record)
	}
	s.failed = true
	if s.stored {
		if err := s.Queue.Audit(ctx, repoID, number, record); err != nil {
			return err
		}
	}
	return errors.New("nats: no response from stream")
}

func TestWorkerRetriesTheEventWhenAnAuditRecordIsNotStored(t *testing.T) {
	for _, stored := range []bool{false, true} {
		t.Run(map[bool]string{false: "not stored", true: "stored, answer lost"}[stored], func(t *testing.T) {
			q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
			ctx := context.Background()
			store := &electionStore{Queue: q, stored: stored}
			w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: &fakeExecutor{}, Config: handlers.StaticConfig(rules.DefaultConfig()),
				Store: store, Logger: zap.NewNop()})
			if err != nil {
				t.Fatal(err)
			}
			m := message(t, "issues", "issues/opened.json", "d-audit")
			err = w.Handle(ctx, m)
			if _, limited := queue.RetryAfter(err); err == nil || queue.IsPermanent(err) || limited {
				t.Fatalf("first attempt: err = %v, want a transient error (the event is retried)", err)
			}
			m.Attempt = 2
			if err := w.Handle(ctx, m); err != nil {
				t.Fatalf("second attempt: %v", err)
			}
			trail, err := q.AuditTrail(ctx, 186853002, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, raw := range trail {
				var rec handlers.AuditRecord
				if err := json.Unmarshal(raw, &rec); err != nil {
					t.Fatal(err)
				}
				got = append(got, rec.What()+" "+string(rec.Result.Status))
			}
			if diff := cmp.Diff([]string{"add_labels needs-triage done"}, got); diff != "" {
				t.Errorf("audit trail (-want +got):\n%s", diff)
			}
		})
	}
}
