package handlers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

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
	if _, err := b.Backfill(ctx, target); err == nil {
		t.Fatal("the interrupted walk reported no error")
	}
	got, err := b.Backfill(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Backfill(ctx, target); err != nil { // done: not walked again
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
	got, err := b.Backfill(context.Background(), rules.Target{InstallationID: 3, RepoID: 9, Owner: "octo", Name: "rocket"})
	if err != nil || !got.Disabled || len(src.asked) != 0 {
		t.Fatalf("progress %+v, %v, pages listed %v; want disabled and nothing listed", got, err, src.asked)
	}
}
