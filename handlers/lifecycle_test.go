package handlers_test

import (
	"context"
	"encoding/json"
	"strings"
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

// issueOnGitHub is one issue's state, changed by the actions executed on it; it reads as the
// lifecycle check reads GitHub.
type issueOnGitHub struct {
	mu       sync.Mutex
	open     bool
	labels   []string
	reason   string
	comments []string // keys of the bot's comments
}

func (g *issueOnGitHub) Execute(_ context.Context, _ rules.Target, actions []rules.Action) ([]rules.Result, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var res []rules.Result
	for _, a := range actions {
		switch a.Type {
		case rules.AddLabels:
			for _, l := range a.Labels {
				if !containsString(g.labels, l) {
					g.labels = append(g.labels, l)
				}
			}
		case rules.RemoveLabel:
			var keep []string
			for _, l := range g.labels {
				if !strings.EqualFold(l, a.Label) {
					keep = append(keep, l)
				}
			}
			g.labels = keep
		case rules.Close:
			g.open, g.reason = false, a.StateReason
		case rules.Reopen:
			g.open = true
		case rules.Comment:
			g.comments = append(g.comments, a.Rule+":"+a.Key)
		}
		res = append(res, rules.Result{Action: a, Status: rules.StatusDone})
	}
	return res, nil
}

func (g *issueOnGitHub) LifecycleIssue(context.Context, int64, string, string, int) (rules.LifecycleIssue, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return rules.LifecycleIssue{Repo: "Codertocat/Hello-World", Number: 1, Open: g.open, Labels: append([]string(nil), g.labels...)}, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// timersCaught records the checks the worker schedules.
type timersCaught struct{ checks []handlers.UntriagedCheck }

func (c *timersCaught) Schedule(_ context.Context, u handlers.UntriagedCheck) error {
	c.checks = append(c.checks, u)
	return nil
}

func (c *timersCaught) last(t *testing.T) handlers.UntriagedCheck {
	t.Helper()
	for i := len(c.checks) - 1; i >= 0; i-- {
		if c.checks[i].Kind == handlers.LifecycleKind {
			return c.checks[i]
		}
	}
	t.Fatal("no lifecycle timer scheduled")
	return handlers.UntriagedCheck{}
}

type maintainers struct{}

func (maintainers) CodeOfConductURL(context.Context) (string, error) { return "", nil }
func (maintainers) Permission(_ context.Context, login string) (string, error) {
	if login == "maya" {
		return "maintain", nil
	}
	return "read", nil
}

// TestLifecycleOnAVirtualClock is an issue's whole idle life (issue 12 §2): it goes stale after
// 60 idle days with one warning, a comment takes it back, it goes stale again (a second
// warning), /lifecycle frozen keeps it open however long it idles, /remove-lifecycle frozen lets
// it age again, and 14 days after the third warning it is closed as not planned.
func TestLifecycleOnAVirtualClock(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	t0 := time.Date(2019, 5, 15, 15, 20, 18, 0, time.UTC) // opened.json's created_at
	day := 24 * time.Hour
	now := t0
	cfg := rules.DefaultConfig()
	cfg.NeedsTriage.Enabled = false // triaged issues are the ones that can go stale
	cfg.Lifecycle.Enabled = true
	gh := &issueOnGitHub{open: true}
	timers := &timersCaught{}
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: gh, Config: handlers.StaticConfig(cfg), Store: q, Logger: zap.NewNop(),
		BotLogin: "triagebot[bot]", Untriaged: timers, Lookup: func(rules.Target) rules.Lookup { return maintainers{} },
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	checker := &handlers.LifecycleChecker{Config: handlers.StaticConfig(cfg), Store: q, Executor: gh, Issues: gh, Logger: zap.NewNop(),
		Now: func() time.Time { return now }}
	commentAt := func(at time.Time, login, body string) {
		t.Helper()
		m := message(t, "issue_comment", "issue_comment/created.json", "c-"+at.Format(time.RFC3339))
		m.Body = edited(t, "issue_comment/created.json", map[string]any{"labels": labelsJSON(gh), "author_association": "NONE"},
			map[string]any{"body": body, "created_at": at.Format(time.RFC3339), "updated_at": at.Format(time.RFC3339),
				"user": map[string]any{"login": login, "type": "User", "id": 7}})
		var p map[string]any
		_ = json.Unmarshal(m.Body, &p)
		p["sender"] = map[string]any{"login": login, "type": "User", "id": 7}
		m.Body, _ = json.Marshal(p)
		now = at
		if err := w.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	check := func(at time.Time, c handlers.UntriagedCheck) time.Time {
		t.Helper()
		now = at
		next, err := checker.Check(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	state := func() []string {
		gh.mu.Lock()
		defer gh.mu.Unlock()
		return append([]string{map[bool]string{true: "open", false: "closed " + gh.reason}[gh.open]}, gh.labels...)
	}

	// Opened: the first idle timer, due after 60 days.
	if err := w.Handle(ctx, message(t, "issues", "issues/opened.json", "opened")); err != nil {
		t.Fatal(err)
	}
	first := timers.last(t)
	if !first.DueAt.Equal(t0.Add(60 * day)) {
		t.Fatalf("first timer due %s, want 60 days after opening", first.DueAt)
	}
	if next := check(t0.Add(59*day), first); !next.Equal(t0.Add(60 * day)) {
		t.Errorf("a day early: next %s", next)
	}
	if next := check(t0.Add(60*day), first); !next.Equal(t0.Add(74 * day)) {
		t.Errorf("stale: next check %s, want 14 days on", next)
	}
	if diff := cmp.Diff([]string{"open", "lifecycle/stale"}, state()); diff != "" {
		t.Errorf("after 60 idle days (-want +got):\n%s", diff)
	}

	// A comment takes it back; the old timer finds newer activity and stops.
	commentAt(t0.Add(65*day), "bob", "Still happens on 2.3.")
	if diff := cmp.Diff([]string{"open"}, state()); diff != "" {
		t.Errorf("after a comment (-want +got):\n%s", diff)
	}
	if next := check(t0.Add(74*day), first); !next.IsZero() {
		t.Errorf("the superseded timer goes on: %s", next)
	}
	second := timers.last(t)
	check(t0.Add(125*day), second)
	if diff := cmp.Diff([]string{"open", "lifecycle/stale"}, state()); diff != "" {
		t.Errorf("stale again (-want +got):\n%s", diff)
	}

	// Frozen: never stale, however long.
	commentAt(t0.Add(126*day), "maya", "/lifecycle frozen")
	if diff := cmp.Diff([]string{"open", "lifecycle/frozen"}, state()); diff != "" {
		t.Errorf("frozen (-want +got):\n%s", diff)
	}
	if next := check(t0.Add(400*day), timers.last(t)); !next.IsZero() || len(state()) != 2 {
		t.Errorf("a frozen issue aged: next %s, state %v", next, state())
	}

	// Thawed, it ages again: stale, then closed as not planned 14 days later.
	commentAt(t0.Add(401*day), "maya", "/remove-lifecycle frozen")
	third := timers.last(t)
	next := check(t0.Add(461*day), third)
	check(next, third)
	if diff := cmp.Diff([]string{"closed not_planned", "lifecycle/stale"}, state()); diff != "" {
		t.Errorf("closed (-want +got):\n%s", diff)
	}
	want := []string{"lifecycle:stale-1", "lifecycle:stale-2", "lifecycle:stale-3", "lifecycle:closed-3"}
	var got []string
	for _, c := range gh.comments {
		if strings.HasPrefix(c, "lifecycle:") {
			got = append(got, c)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("one warning per cycle, then the closing note (-want +got):\n%s", diff)
	}
}

func labelsJSON(g *issueOnGitHub) []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := []map[string]any{}
	for _, l := range g.labels {
		out = append(out, map[string]any{"name": l})
	}
	return out
}

// A timer due in 60 days fires as soon as the timers' clock says so: with MaxHold, a timer held
// back is looked at again within it, so a test's virtual clock moved on by days is seen without
// waiting for real (issue 12 §2: the lifecycle on a virtual clock). Not before it is due.
func TestTimersFollowTheirClock(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	timers, err := handlers.SetupTimers(ctx, q.JetStream(), handlers.TimersConfig{Now: clock, MaxHold: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan time.Time, 10)
	timers.Register(handlers.LifecycleKind, func(context.Context, handlers.UntriagedCheck) (time.Time, error) {
		ran <- clock()
		return time.Time{}, nil
	})
	if err := timers.Start(func(context.Context, handlers.UntriagedCheck) (time.Time, error) { return time.Time{}, nil }); err != nil {
		t.Fatal(err)
	}
	defer timers.Stop()
	due := now.Add(60 * 24 * time.Hour)
	if err := timers.Schedule(ctx, handlers.UntriagedCheck{Kind: handlers.LifecycleKind, DeliveryID: "d", RepoID: 1, Repo: "o/r", Number: 1, DueAt: due}); err != nil {
		t.Fatal(err)
	}
	// Held back several times over while not due.
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := q.JetStream().Consumer(ctx, handlers.TimersStream, handlers.UntriagedTimers)
		if err != nil {
			t.Fatal(err)
		}
		ci, err := info.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumRedelivered > 0 && ci.Delivered.Consumer >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the timer was not looked at again: %+v", ci.Delivered)
		}
		time.Sleep(time.Millisecond) // polling, bounded by the deadline
	}
	select {
	case at := <-ran:
		t.Fatalf("the check ran at %s, before it was due", at)
	default:
	}
	mu.Lock()
	now = due
	mu.Unlock()
	select {
	case at := <-ran:
		if at.Before(due) {
			t.Fatalf("ran at %s, due %s", at, due)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the due timer did not run")
	}
}

// interferingStore stores another memory of the issue just before the check stores its own, as
// an event of the issue handled while the check acted would.
type interferingStore struct {
	*queue.Queue
	once      sync.Once
	interfere func(ctx context.Context, key string) error
}

func (s *interferingStore) StoreMemory(ctx context.Context, key string, v any, rev uint64) error {
	var err error
	s.once.Do(func() { err = s.interfere(ctx, key) })
	if err != nil {
		return err
	}
	return s.Queue.StoreMemory(ctx, key, v, rev)
}

// A lifecycle check whose memory an event changed while it acted keeps what it did (the bot's
// own comment coming back), or, when the event was a person's activity, takes the stale label
// off again and leaves the issue not stale: no close 14 days on from a stale mark nobody saw.
func TestLifecycleCheckRacingAnEvent(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name       string
		event      func(m *rules.Memory)
		wantLabels []string
		wantStale  bool
	}{
		{"the bot's own comment", func(m *rules.Memory) { m.BotComments = append(m.BotComments, "id:77") }, []string{"bug", "lifecycle/stale"}, true},
		{"a person's comment", func(m *rules.Memory) { m.LastActivity = t0.Add(61 * day) }, []string{"bug"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
			ctx := context.Background()
			cfg := rules.DefaultConfig()
			cfg.Lifecycle.Enabled = true
			key := queue.IssueKey(9, 1)
			if err := q.StoreMemory(ctx, key, rules.Memory{LastActivity: t0}, 0); err != nil {
				t.Fatal(err)
			}
			store := &interferingStore{Queue: q, interfere: func(ctx context.Context, key string) error {
				var m rules.Memory
				rev, err := q.LoadMemory(ctx, key, &m)
				if err != nil {
					return err
				}
				tt.event(&m)
				return q.StoreMemory(ctx, key, m, rev)
			}}
			gh := &issueOnGitHub{open: true, labels: []string{"bug"}}
			checker := &handlers.LifecycleChecker{Config: handlers.StaticConfig(cfg), Store: store, Executor: gh, Issues: gh, Logger: zap.NewNop(),
				Now: func() time.Time { return t0.Add(61 * day) }}
			c := handlers.UntriagedCheck{Kind: handlers.LifecycleKind, DeliveryID: "d", InstallationID: 3, RepoID: 9, Repo: "octo/rocket", Number: 1,
				OpenedAt: t0, DueAt: t0.Add(60 * day)}
			next, err := checker.Check(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantLabels, gh.labels); diff != "" {
				t.Errorf("labels on GitHub (-want +got):\n%s", diff)
			}
			var mem rules.Memory
			if _, err := q.LoadMemory(ctx, key, &mem); err != nil {
				t.Fatal(err)
			}
			if stale := !mem.StaleSince.IsZero(); stale != tt.wantStale || mem.StaleCycle != 1 {
				t.Errorf("memory: stale since %s, cycle %d; want stale %v, cycle 1", mem.StaleSince, mem.StaleCycle, tt.wantStale)
			}
			if (!next.IsZero()) != tt.wantStale {
				t.Errorf("next check %s", next)
			}
		})
	}
}
