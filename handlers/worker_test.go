package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// fakeExecutor records calls and fails as told.
type fakeExecutor struct {
	mu    sync.Mutex
	calls [][]rules.Action
	errs  []error // returned by successive calls; nil when exhausted
}

func (f *fakeExecutor) Execute(ctx context.Context, t rules.Target, actions []rules.Action) ([]rules.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, actions)
	var err error
	if len(f.errs) > 0 {
		err, f.errs = f.errs[0], f.errs[1:]
	}
	var res []rules.Result
	for _, a := range actions {
		st := rules.StatusDone
		if err != nil {
			st = rules.StatusFailed
		}
		res = append(res, rules.Result{Action: a, Status: st})
	}
	return res, err
}

func newWorker(t *testing.T, q *queue.Queue, exec handlers.Executor, bot string) *handlers.Worker {
	t.Helper()
	w, err := handlers.NewWorker(handlers.WorkerConfig{
		Executor: exec,
		Config:   handlers.StaticConfig(rules.DefaultConfig()),
		Store:    q,
		Logger:   zap.NewNop(),
		BotLogin: bot,
		Now:      func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func message(t *testing.T, event, file, id string) queue.Message {
	return queue.Message{Event: event, DeliveryID: id, RepoID: 186853002, Number: 1, Body: payload(t, file), Attempt: 1}
}

func TestWorkerSkipsTheBotsOwnEvents(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	exec := &fakeExecutor{}
	// The payload's sender is Codertocat: as the bot's login it is skipped, case-insensitively.
	w := newWorker(t, q, exec, "codertocat")
	if err := w.Handle(context.Background(), message(t, "issues", "issues/opened.json", "own")); err != nil {
		t.Fatal(err)
	}
	if len(exec.calls) != 0 {
		t.Fatalf("executor called %d times for the bot's own event", len(exec.calls))
	}
}

func TestWorkerUndecodablePayloadIsPermanent(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	w := newWorker(t, q, &fakeExecutor{}, "")
	m := message(t, "issues", "issues/opened.json", "bad")
	m.Body = []byte(`{"action": 5}`)
	err := w.Handle(context.Background(), m)
	if !queue.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent error", err)
	}
}

func TestWorkerExecutesAuditsAndRemembers(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	exec := &fakeExecutor{errs: []error{errors.New("GitHub answered 502")}}
	w := newWorker(t, q, exec, "triagebot[bot]")
	m := message(t, "issues", "issues/opened.json", "d-1")

	err := w.Handle(ctx, m)
	if err == nil || queue.IsPermanent(err) {
		t.Fatalf("first attempt: err = %v, want a transient error", err)
	}
	m.Attempt = 2
	if err := w.Handle(ctx, m); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	want := []rules.Action{{Rule: "needs-triage", Type: rules.AddLabels, Repo: "Codertocat/Hello-World", Number: 1, Labels: []string{"needs-triage"}}}
	for i, c := range exec.calls {
		if diff := cmp.Diff(want, c, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Reason" }, cmp.Ignore())); diff != "" {
			t.Fatalf("call %d (-want +got):\n%s", i, diff)
		}
	}
	trail, err := q.AuditTrail(ctx, 186853002, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []rules.Status
	for _, raw := range trail {
		var rec handlers.AuditRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.DeliveryID != "d-1" || rec.Repo != "Codertocat/Hello-World" || rec.Number != 1 || rec.Result.Action.Rule != "needs-triage" {
			t.Fatalf("audit record %+v", rec)
		}
		statuses = append(statuses, rec.Result.Status)
	}
	if diff := cmp.Diff([]rules.Status{rules.StatusFailed, rules.StatusDone}, statuses); diff != "" {
		t.Fatalf("audit statuses (-want +got):\n%s", diff)
	}
}

func TestWorkerThroughTheQueueDeadLettersBadPayloads(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	w := newWorker(t, q, &fakeExecutor{}, "")
	if _, err := q.Publish(ctx, queue.Delivery{ID: "junk", Event: "issues", RepoID: 1, Number: 1, Body: []byte(`{"issue": "not an object"}`)}); err != nil {
		t.Fatal(err)
	}
	done := make(chan queue.Outcome, 1)
	c, err := q.Consume(ctx, w.Handle, queue.ConsumeOptions{Observe: func(o queue.Outcome) { done <- o }})
	if err != nil {
		t.Fatal(err)
	}
	var o queue.Outcome
	select {
	case o = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("no outcome")
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if o.Result != "dead_lettered" {
		t.Fatalf("outcome %s (%v), want dead_lettered", o.Result, o.Err)
	}
	dls, err := q.DeadLetters(ctx, 0)
	if err != nil || len(dls) != 1 || dls[0].DeliveryID != "junk" {
		t.Fatalf("dead letters %+v %v", dls, err)
	}
	if want := "decode issues payload: json: cannot unmarshal string into Go struct field"; len(dls[0].Reason) < len(want) || dls[0].Reason[:len(want)] != want {
		t.Fatalf("reason %q", dls[0].Reason)
	}
}
