package handlers_test

import (
	"bytes"
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
	return s.AuditBatch(ctx, repoID, number, []any{record})
}

// AuditBatch is the worker's path for an event of several records: it fails the same way.
func (s *electionStore) AuditBatch(ctx context.Context, repoID int64, number int, records []any) error {
	if s.failed {
		return s.Queue.AuditBatch(ctx, repoID, number, records)
	}
	s.failed = true
	if s.stored {
		if err := s.Queue.AuditBatch(ctx, repoID, number, records); err != nil {
			return err
		}
	}
	return errors.New("nats: no response from stream")
}

func TestWorkerRetriesTheEventWhenAnAuditRecordIsNotStored(t *testing.T) {
	// A newcomer's issue gets two actions (needs-triage and the welcome): two records in one batch.
	cases := []struct {
		name     string
		stored   bool
		newcomer bool
		want     []string
	}{
		{"not stored", false, false, []string{"add_labels needs-triage done"}},
		{"stored, answer lost", true, false, []string{"add_labels needs-triage done"}},
		{"two records, not stored", false, true, nil},
		{"two records, stored, answer lost", true, true, nil},
	}
	for _, tc := range cases {
		stored := tc.stored
		t.Run(tc.name, func(t *testing.T) {
			q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
			ctx := context.Background()
			store := &electionStore{Queue: q, stored: stored}
			w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: &fakeExecutor{}, Config: handlers.StaticConfig(rules.DefaultConfig()),
				Store: store, Logger: zap.NewNop()})
			if err != nil {
				t.Fatal(err)
			}
			m := message(t, "issues", "issues/opened.json", "d-audit")
			if tc.newcomer {
				m.Body = bytes.Replace(m.Body, []byte(`"author_association": "OWNER"`), []byte(`"author_association": "NONE"`), 1)
			}
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
			want := tc.want
			if want == nil {
				if len(got) != 2 {
					t.Fatalf("the event made %d records (%q), want two for this case", len(got), got)
				}
				want = []string{got[0], got[1]}
				if got[0] == got[1] {
					t.Errorf("a record stored twice: %q", got)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("audit trail (-want +got):\n%s", diff)
			}
		})
	}
}
