package handlers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// pagedIssues serves pages of open issues and records which pages were asked for.
type pagedIssues struct {
	pages [][]*github.Issue
	asked []int
}

func (p *pagedIssues) OpenIssues(_ context.Context, _ rules.Target, page int) ([]*github.Issue, int, error) {
	p.asked = append(p.asked, page)
	next := page + 1
	if next > len(p.pages) {
		next = 0
	}
	return p.pages[page-1], next, nil
}

func openIssue(n, comments int, labels ...string) *github.Issue {
	is := &github.Issue{Number: github.Int(n), State: github.String("open"), Comments: github.Int(comments),
		User: &github.User{Login: github.String("old-timer")}}
	for _, l := range labels {
		is.Labels = append(is.Labels, &github.Label{Name: github.String(l)})
	}
	return is
}

func TestBackfillWalksOnceAndResumes(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	pr := openIssue(4, 30)
	pr.PullRequestLinks = &github.PullRequestLinks{URL: github.String("https://api.github.com/repos/octo/rocket/pulls/4")}
	src := &pagedIssues{pages: [][]*github.Issue{
		{openIssue(1, 0), openIssue(2, 12, "bug")},
		{openIssue(3, 25)},
		{pr},
	}}
	// The first attempt dies at issue 3, as a process would.
	exec := &fakeExecutor{errs: []error{nil, nil, errors.New("connection reset")}}
	var progress []handlers.BackfillProgress
	b := &handlers.Backfiller{Source: src, Config: handlers.StaticConfig(rules.DefaultConfig()), Store: q, Executor: exec,
		Pace: time.Millisecond, Progress: func(p handlers.BackfillProgress) { progress = append(progress, p) }}
	target := rules.Target{InstallationID: 3, RepoID: 9, Owner: "octo", Name: "rocket"}
	if _, err := b.Backfill(ctx, target, time.Time{}); err == nil {
		t.Fatal("the interrupted walk reported no error")
	}
	got, err := b.Backfill(ctx, target, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Backfill(ctx, target, time.Time{}); err != nil { // done: not walked again
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 2, 2, 3}, src.asked); diff != "" {
		t.Errorf("pages listed (-want +got):\n%s", diff)
	}
	want := handlers.BackfillProgress{Repo: "octo/rocket", Pages: 3, Issues: 4, Changed: 3, Done: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if len(progress) != 3 {
		t.Errorf("%d progress reports, want one per page: %+v", len(progress), progress)
	}
	var labels [][]string
	for _, call := range exec.calls {
		var l []string
		for _, a := range call {
			l = append(l, a.Labels...)
		}
		labels = append(labels, l)
	}
	wantLabels := [][]string{{"needs-triage"}, {"priority: medium"}, {"needs-triage", "priority: high"}, {"needs-triage", "priority: high"}}
	if diff := cmp.Diff(wantLabels, labels); diff != "" {
		t.Errorf("labels added per call (-want +got):\n%s", diff)
	}
	var mem rules.Memory
	if _, err := q.LoadMemory(ctx, queue.IssueKey(9, 1), &mem); err != nil || !cmp.Equal(mem.BotLabels, []string{"needs-triage"}) {
		t.Errorf("memory of #1: %+v, %v; want the bot's needs-triage remembered", mem, err)
	}
}

func TestBackfillOffInTheConfiguration(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	cfg := rules.DefaultConfig()
	cfg.Backfill = false
	src := &pagedIssues{pages: [][]*github.Issue{{openIssue(1, 0)}}}
	b := &handlers.Backfiller{Source: src, Config: handlers.StaticConfig(cfg), Store: q, Executor: &fakeExecutor{}}
	got, err := b.Backfill(context.Background(), rules.Target{InstallationID: 3, RepoID: 9, Owner: "octo", Name: "rocket"}, time.Time{})
	if err != nil || !got.Disabled || len(src.asked) != 0 {
		t.Fatalf("progress %+v, %v, pages listed %v; want disabled and nothing listed", got, err, src.asked)
	}
}

// idleIssue is an open issue last updated at.
func idleIssue(n int, at time.Time, labels ...string) *github.Issue {
	is := openIssue(n, 0, labels...)
	is.CreatedAt, is.UpdatedAt = &github.Timestamp{Time: at.Add(-time.Hour)}, &github.Timestamp{Time: at}
	return is
}

func lifecycleOn() rules.Config {
	cfg := rules.DefaultConfig()
	cfg.Lifecycle.Enabled = true
	return cfg
}

// With the lifecycle on, the backfill gives each open issue older than the installation its idle
// timer, from the issue's last update, and remembers that activity so that the timer is valid;
// an issue whose newer activity the bot saw keeps its own timer. The lifecycle walk then has
// nothing left to do.
func TestBackfillSchedulesTheLifecycleTimers(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	day := 24 * time.Hour
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	pr := idleIssue(4, t0)
	pr.PullRequestLinks = &github.PullRequestLinks{URL: github.String("https://api.github.com/repos/octo/rocket/pulls/4")}
	src := &pagedIssues{pages: [][]*github.Issue{{idleIssue(1, t0), idleIssue(2, t0.Add(day), "bug")}, {idleIssue(3, t0), pr}}}
	// #3 had a comment the bot saw after its listed update: its timer is the event's.
	seen := t0.Add(2 * day)
	if err := q.StoreMemory(ctx, queue.IssueKey(9, 3), rules.Memory{LastActivity: seen}, 0); err != nil {
		t.Fatal(err)
	}
	timers := &timersCaught{}
	b := &handlers.Backfiller{Source: src, Config: handlers.StaticConfig(lifecycleOn()), Store: q, Executor: &fakeExecutor{}, Timers: timers}
	target := rules.Target{InstallationID: 3, RepoID: 9, Owner: "octo", Name: "rocket"}
	got, err := b.Backfill(ctx, target, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Lifecycle || !got.Done {
		t.Errorf("progress %+v: want done, with the lifecycle's timers", got)
	}
	type timer struct {
		Number          int
		OpenedAt, DueAt time.Time
	}
	var scheduled []timer
	for _, c := range timers.checks {
		if c.Kind != handlers.LifecycleKind || c.Repo != "octo/rocket" || c.RepoID != 9 || c.InstallationID != 3 {
			t.Errorf("timer %+v: not a lifecycle timer of octo/rocket", c)
		}
		scheduled = append(scheduled, timer{c.Number, c.OpenedAt, c.DueAt})
	}
	want := []timer{{1, t0, t0.Add(60 * day)}, {2, t0.Add(day), t0.Add(61 * day)}}
	if diff := cmp.Diff(want, scheduled); diff != "" {
		t.Errorf("timers (-want +got):\n%s", diff)
	}
	for n, at := range map[int]time.Time{1: t0, 2: t0.Add(day), 3: seen} {
		var mem rules.Memory
		if _, err := q.LoadMemory(ctx, queue.IssueKey(9, n), &mem); err != nil || !mem.LastActivity.Equal(at) {
			t.Errorf("#%d: last activity %s (%v), want %s", n, mem.LastActivity, err, at)
		}
	}
	again, err := b.LifecycleWalk(ctx, target)
	if err != nil || !again.Earlier || len(src.asked) != 2 || len(timers.checks) != 2 {
		t.Errorf("lifecycle walk after the backfill: %+v, %v, pages listed %v, timers %d; want nothing done", again, err, src.asked, len(timers.checks))
	}
}

// A repository whose lifecycle is turned on after its backfill (or whose backfill is off) gets
// its issues' timers from the lifecycle walk: resumable, once, and only while the lifecycle is on.
func TestLifecycleWalkWhenTheLifecycleIsTurnedOnLater(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	target := rules.Target{InstallationID: 3, RepoID: 9, Owner: "octo", Name: "rocket"}
	timers := &timersCaught{}
	off := &pagedIssues{pages: [][]*github.Issue{{idleIssue(1, t0)}, {idleIssue(2, t0)}}}
	b := &handlers.Backfiller{Source: off, Config: handlers.StaticConfig(rules.DefaultConfig()), Store: q, Executor: &fakeExecutor{}, Timers: timers}
	if p, err := b.Backfill(ctx, target, time.Time{}); err != nil || p.Lifecycle {
		t.Fatalf("backfill with the lifecycle off: %+v, %v", p, err)
	}
	if p, err := b.LifecycleWalk(ctx, target); err != nil || !p.Disabled || len(timers.checks) != 0 {
		t.Fatalf("lifecycle walk with the lifecycle off: %+v, %v, %d timers", p, err, len(timers.checks))
	}

	// Turned on: the walk lists the pages again (the second one fails once, then resumes).
	src := &failingPages{pagedIssues: pagedIssues{pages: off.pages}, failAt: 2}
	b.Source, b.Config = src, handlers.StaticConfig(lifecycleOn())
	if _, err := b.LifecycleWalk(ctx, target); err == nil {
		t.Fatal("the interrupted walk reported no error")
	}
	got, err := b.LifecycleWalk(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LifecycleWalk(ctx, target); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 2, 2}, src.asked); diff != "" {
		t.Errorf("pages listed (-want +got):\n%s", diff)
	}
	want := handlers.BackfillProgress{Repo: "octo/rocket", Pages: 2, Issues: 2, Changed: 2, Done: true, Lifecycle: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	var numbers []int
	for _, c := range timers.checks {
		numbers = append(numbers, c.Number)
	}
	if diff := cmp.Diff([]int{1, 2}, numbers); diff != "" {
		t.Errorf("timers scheduled for (-want +got):\n%s", diff)
	}
}

// failingPages fails page failAt once.
type failingPages struct {
	pagedIssues
	failAt int
	failed bool
}

func (f *failingPages) OpenIssues(ctx context.Context, t rules.Target, page int) ([]*github.Issue, int, error) {
	if page == f.failAt && !f.failed {
		f.failed = true
		f.asked = append(f.asked, page)
		return nil, 0, errors.New("connection reset")
	}
	return f.pagedIssues.OpenIssues(ctx, t, page)
}

// The walk's timer is valid when due: an idle issue older than the installation goes stale; one
// that is untriaged or assigned does not (the rules' guard at check time).
func TestTheWalksTimerMakesAnOldIssueStale(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		labels []string
		want   []string
	}{
		{"triaged and idle", []string{"bug"}, []string{"open", "bug", "lifecycle/stale"}},
		{"untriaged", []string{"needs-triage"}, []string{"open", "needs-triage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
			ctx := context.Background()
			timers := &timersCaught{}
			cfg := lifecycleOn()
			cfg.Backfill = false
			src := &pagedIssues{pages: [][]*github.Issue{{idleIssue(1, t0, tt.labels...)}}}
			b := &handlers.Backfiller{Source: src, Config: handlers.StaticConfig(cfg), Store: q, Executor: &fakeExecutor{}, Timers: timers}
			if _, err := b.LifecycleWalk(ctx, rules.Target{InstallationID: 3, RepoID: 9, Owner: "octo", Name: "rocket"}); err != nil {
				t.Fatal(err)
			}
			gh := &issueOnGitHub{open: true, labels: tt.labels}
			checker := &handlers.LifecycleChecker{Config: handlers.StaticConfig(cfg), Store: q, Executor: gh, Issues: gh, Logger: zap.NewNop(),
				Now: func() time.Time { return t0.Add(400 * 24 * time.Hour) }}
			if _, err := checker.Check(ctx, timers.last(t)); err != nil {
				t.Fatal(err)
			}
			got := append([]string{map[bool]string{true: "open", false: "closed"}[gh.open]}, gh.labels...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("after the check (-want +got):\n%s", diff)
			}
		})
	}
}

// The walk at installation stops at the issues opened since the App got the repository: those
// come as events of their own, and walking them too would race their events and write twice.
func TestBackfillLeavesIssuesOpenedSinceTheInstallationToTheirEvents(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	installed := time.Now().Add(-time.Hour)
	before, after := openIssue(1, 0), openIssue(2, 0)
	before.CreatedAt = &github.Timestamp{Time: installed.Add(-time.Minute)}
	after.CreatedAt = &github.Timestamp{Time: installed.Add(time.Minute)}
	exec := &fakeExecutor{}
	b := &handlers.Backfiller{Source: &pagedIssues{pages: [][]*github.Issue{{before, after}}},
		Config: handlers.StaticConfig(rules.DefaultConfig()), Store: q, Executor: exec}
	got, err := b.Backfill(context.Background(), rules.Target{InstallationID: 3, RepoID: 9, Owner: "octo", Name: "rocket"}, installed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Issues != 1 || len(exec.calls) != 1 {
		t.Fatalf("walked %d issues, %d executions; want only the issue opened before the installation", got.Issues, len(exec.calls))
	}
}
