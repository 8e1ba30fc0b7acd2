package handlers_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

type fakeSource struct {
	repos  []rules.Target
	issues map[string][]notify.UntriagedIssue // by owner/name
	lists  int
	sweeps atomic.Int32
}

func (f *fakeSource) Repositories(context.Context) ([]rules.Target, error) {
	f.sweeps.Add(1)
	return f.repos, nil
}

func (f *fakeSource) OpenIssuesWithLabel(_ context.Context, t rules.Target, label string) ([]notify.UntriagedIssue, error) {
	f.lists++
	return f.issues[t.FullName()], nil
}

func TestSweepReportsDueUntriagedIssuesOnce(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	src := &fakeSource{
		repos: []rules.Target{{InstallationID: 3, RepoID: 9, Owner: "octo", Name: "repo"}},
		issues: map[string][]notify.UntriagedIssue{"octo/repo": {
			{Repo: "octo/repo", Number: 1, Title: "old", OpenedAt: testNow.Add(-100 * time.Hour)},
			{Repo: "octo/repo", Number: 2, Title: "recent", OpenedAt: testNow.Add(-time.Hour)},
			{Repo: "octo/repo", Number: 3, Title: "triaged in memory", OpenedAt: testNow.Add(-100 * time.Hour)},
			{Repo: "octo/repo", Number: 4, Title: "reopened lately", OpenedAt: testNow.Add(-100 * time.Hour)},
		}},
	}
	if err := q.StoreMemory(ctx, queue.IssueKey(9, 3), rules.Memory{Triaged: true}, 0); err != nil {
		t.Fatal(err)
	}
	if err := q.StoreMemory(ctx, queue.IssueKey(9, 4), rules.Memory{OpenedAt: testNow.Add(-time.Hour)}, 0); err != nil {
		t.Fatal(err)
	}
	n := &fakeNotifier{channels: channels()}
	now := testNow
	s := &handlers.Sweeper{Source: src, Store: q, Notifier: n, Every: time.Hour, Now: func() time.Time { return now },
		Config: handlers.StaticConfig(routed(rules.Route{On: rules.RouteUntriaged, After: "72h", To: []string{"ops", "team", "nowhere"}}))}
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, got := range n.got {
		ids = append(ids, got.ID)
	}
	want := []string{notify.UntriagedID("octo/repo", 1, "ops"), notify.UntriagedID("octo/repo", 1, "team")}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Fatalf("first sweep (-want +got):\n%s", diff)
	}
	var inst handlers.RepoInstallation
	if _, err := q.LoadMemory(ctx, handlers.InstallationKey("octo/repo"), &inst); err != nil || inst.ID != 3 {
		t.Fatalf("installation for the github channel: %+v %v", inst, err)
	}

	// Within the interval (another process, or a restart): no sweep at all.
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if src.lists != 1 {
		t.Fatalf("%d listings, want 1: the lease should hold the second sweep", src.lists)
	}
	// A week later, long after the notification queue forgot the IDs: still not reported again.
	now = testNow.Add(7 * 24 * time.Hour)
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if src.lists != 2 {
		t.Fatalf("%d listings, want 2", src.lists)
	}
	ids = nil
	for _, got := range n.got {
		ids = append(ids, got.ID)
	}
	want = append(want, notify.UntriagedID("octo/repo", 2, "ops"), notify.UntriagedID("octo/repo", 2, "team"),
		notify.UntriagedID("octo/repo", 4, "ops"), notify.UntriagedID("octo/repo", 4, "team"))
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Fatalf("reports after the later sweep (-want +got):\n%s", diff)
	}
}

func TestSweepSkipsRepositoriesWithoutUntriagedRoutes(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	src := &fakeSource{repos: []rules.Target{{InstallationID: 3, RepoID: 9, Owner: "octo", Name: "repo"}}}
	s := &handlers.Sweeper{Source: src, Store: q, Notifier: &fakeNotifier{channels: channels()}, Now: func() time.Time { return testNow },
		Config: handlers.StaticConfig(routed(rules.Route{On: rules.RouteIssueOpened, To: []string{"ops"}}))}
	if err := s.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if src.lists != 0 {
		t.Fatalf("%d issue listings for a repository that asks for no untriaged reports", src.lists)
	}
}

func TestSweeperRunsOnScheduleAndStops(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	src := &fakeSource{}
	s := &handlers.Sweeper{Source: src, Store: q, Config: handlers.StaticConfig(rules.DefaultConfig()), Every: 50 * time.Millisecond}
	s.Start()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for src.sweeps.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sweeps, want 2", src.sweeps.Load())
		}
		<-tick.C
	}
	s.Stop()
	s.Stop() // twice is harmless; goleak checks nothing is left running
}
