package handlers_test

import (
	"context"
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

type fakeIssues struct {
	state handlers.IssueState
	err   error
	calls int
}

func (f *fakeIssues) IssueState(context.Context, int64, string, string, int) (handlers.IssueState, error) {
	f.calls++
	return f.state, f.err
}

func TestUntriagedCheck(t *testing.T) {
	opened := testNow.Add(-2 * time.Hour)
	labelled := handlers.IssueState{Open: true, Labels: []string{"bug", "Needs-Triage"}, Title: "Crash", URL: "https://github.com/octo/repo/issues/7"}
	two := []rules.Route{{On: rules.RouteUntriaged, After: "1h", To: []string{"ops", "nowhere"}}, {On: rules.RouteUntriaged, After: "72h", To: []string{"team"}}}
	tests := []struct {
		name      string
		routes    []rules.Route
		mem       rules.Memory
		issue     handlers.IssueState
		dueAt     time.Time // of the check; zero: the first route's
		want      []string  // notification IDs
		wantNext  time.Time
		wantReads int
	}{
		{name: "due, still labelled", routes: two, issue: labelled,
			want: []string{"untriaged:octo/repo#7:ops"}, wantNext: opened.Add(72 * time.Hour), wantReads: 1},
		{name: "not due yet", routes: []rules.Route{{On: rules.RouteUntriaged, After: "3h", To: []string{"ops"}}}, issue: labelled,
			dueAt: opened.Add(3 * time.Hour), wantNext: opened.Add(3 * time.Hour)},
		{name: "triaged meanwhile", routes: two, issue: labelled, mem: rules.Memory{Triaged: true, OpenedAt: opened}},
		{name: "reopened since: the newer check reports", routes: two, issue: labelled, mem: rules.Memory{OpenedAt: opened.Add(time.Hour)}},
		{name: "label gone", routes: two, issue: handlers.IssueState{Open: true, Labels: []string{"bug"}}, wantReads: 1},
		{name: "closed", routes: two, issue: handlers.IssueState{Open: false, Labels: []string{"needs-triage"}}, wantReads: 1},
		{name: "route removed from the configuration", issue: labelled},
		{name: "the later route's own check", routes: two, issue: labelled, dueAt: opened.Add(72 * time.Hour),
			want: nil, wantNext: opened.Add(72 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
			ctx := context.Background()
			if tt.mem.OpenedAt.IsZero() && !tt.mem.Triaged {
				tt.mem.OpenedAt = opened
			}
			if err := q.StoreMemory(ctx, queue.IssueKey(9, 7), tt.mem, 0); err != nil {
				t.Fatal(err)
			}
			n := &fakeNotifier{channels: channels()}
			issues := &fakeIssues{state: tt.issue}
			c := &handlers.UntriagedChecker{Config: handlers.StaticConfig(routed(tt.routes...)), Store: q, Notifier: n, Issues: issues,
				Logger: zap.NewNop(), Now: func() time.Time { return testNow }}
			check := handlers.UntriagedCheck{DeliveryID: "d-1", InstallationID: 3, RepoID: 9, Repo: "octo/repo", Number: 7, OpenedAt: opened, DueAt: tt.dueAt}
			if check.DueAt.IsZero() {
				check.DueAt = opened.Add(time.Hour)
			}
			next, err := c.Check(ctx, check)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, got := range n.got {
				ids = append(ids, got.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("reported (-want +got):\n%s", diff)
			}
			if !next.Equal(tt.wantNext) {
				t.Errorf("next check %v, want %v", next, tt.wantNext)
			}
			if issues.calls != tt.wantReads {
				t.Errorf("%d reads of the issue, want %d", issues.calls, tt.wantReads)
			}
		})
	}
}

func TestUntriagedCheckReadFailureIsRetried(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	c := &handlers.UntriagedChecker{Config: handlers.StaticConfig(routed(rules.Route{On: rules.RouteUntriaged, After: "1h", To: []string{"ops"}})),
		Store: q, Notifier: &fakeNotifier{channels: channels()}, Issues: &fakeIssues{err: errors.New("GitHub answered 502")},
		Logger: zap.NewNop(), Now: func() time.Time { return testNow }}
	opened := testNow.Add(-2 * time.Hour)
	_, err := c.Check(context.Background(), handlers.UntriagedCheck{RepoID: 9, Repo: "octo/repo", Number: 7, OpenedAt: opened, DueAt: opened.Add(time.Hour)})
	if err == nil {
		t.Fatal("no error")
	}
}

// untriagedWorker is a worker whose configuration reports issues untriaged after 72h.
func untriagedWorker(t *testing.T, q *queue.Queue) (*handlers.Worker, *handlers.Timers) {
	t.Helper()
	timers, err := handlers.SetupTimers(context.Background(), q.JetStream(), handlers.TimersConfig{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := handlers.NewWorker(handlers.WorkerConfig{
		Executor:  &fakeExecutor{},
		Config:    handlers.StaticConfig(routed(rules.Route{On: rules.RouteUntriaged, After: "72h", To: []string{"ops"}})),
		Store:     q,
		Untriaged: timers,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w, timers
}

func TestWorkerSchedulesUntriagedChecksOnce(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	w, timers := untriagedWorker(t, q)
	m := message(t, "issues", "issues/opened.json", "d-1")
	for i := 1; i <= 2; i++ { // a retried event schedules once
		m.Attempt = i
		if err := w.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := queuetest.Msgs(t, q.JetStream(), handlers.TimersStream); n != 1 {
		t.Fatalf("%d checks scheduled, want 1", n)
	}

	// Due: the timer runs the check, which reports once and is done.
	var mu sync.Mutex
	var got []handlers.UntriagedCheck
	done := make(chan struct{}, 1)
	if err := timers.Start(func(_ context.Context, c handlers.UntriagedCheck) (time.Time, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
		done <- struct{}{}
		return time.Time{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	defer timers.Stop()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the due check did not run")
	}
	mu.Lock()
	defer mu.Unlock()
	want := handlers.UntriagedCheck{DeliveryID: "d-1", RepoID: 186853002, Repo: "Codertocat/Hello-World", Number: 1,
		Title: "Spelling error in the README file", URL: "https://github.com/Codertocat/Hello-World/issues/1",
		OpenedAt: time.Date(2019, 5, 15, 15, 20, 18, 0, time.UTC), DueAt: time.Date(2019, 5, 18, 15, 20, 18, 0, time.UTC)}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Fatalf("check (-want +got):\n%s", diff)
	}
}

func TestTimersHoldAChecksUntilDueAndRescheduleLaterRoutes(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	timers, err := handlers.SetupTimers(ctx, q.JetStream(), handlers.TimersConfig{})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(300 * time.Millisecond)
	ran := make(chan time.Time, 2)
	var once sync.Once
	if err := timers.Start(func(_ context.Context, c handlers.UntriagedCheck) (time.Time, error) {
		ran <- time.Now()
		var next time.Time
		once.Do(func() { next = time.Now().Add(200 * time.Millisecond) }) // a later route
		return next, nil
	}); err != nil {
		t.Fatal(err)
	}
	defer timers.Stop()
	if err := timers.Schedule(ctx, handlers.UntriagedCheck{DeliveryID: "d-1", RepoID: 1, Repo: "o/r", Number: 1, DueAt: due}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		select {
		case at := <-ran:
			if at.Before(due) {
				t.Fatalf("check %d ran %s before it was due", i, due.Sub(at))
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("check %d did not run", i)
		}
	}
}

func TestTimersDropAChecksThatCannotSucceed(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	timers, err := handlers.SetupTimers(ctx, q.JetStream(), handlers.TimersConfig{})
	if err != nil {
		t.Fatal(err)
	}
	calls := make(chan struct{}, 10)
	if err := timers.Start(func(context.Context, handlers.UntriagedCheck) (time.Time, error) {
		calls <- struct{}{}
		return time.Time{}, queue.Permanent(errors.New("issue gone: 410"))
	}); err != nil {
		t.Fatal(err)
	}
	defer timers.Stop()
	if err := timers.Schedule(ctx, handlers.UntriagedCheck{DeliveryID: "d-1", RepoID: 1, Repo: "o/r", Number: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-calls:
	case <-time.After(30 * time.Second):
		t.Fatal("the check did not run")
	}
	st, err := q.JetStream().Stream(ctx, handlers.TimersStream)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the check was not dropped")
		}
		<-tick.C
	}
	if len(calls) != 0 {
		t.Fatalf("the check ran %d more times", len(calls))
	}
}
