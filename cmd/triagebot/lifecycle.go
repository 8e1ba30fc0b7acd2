package main

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/rules"
)

var _ handlers.LifecycleReader = issueReader{}

// LifecycleIssue reads what the lifecycle check needs of an issue through the App.
func (r issueReader) LifecycleIssue(ctx context.Context, installationID int64, owner, repo string, number int) (rules.LifecycleIssue, error) {
	is, _, err := r.app.Installation(installationID).Issues.Get(ctx, owner, repo, number)
	if err != nil {
		return rules.LifecycleIssue{}, ghapp.Classify(err)
	}
	out := rules.LifecycleIssue{Repo: owner + "/" + repo, Number: number, Open: is.GetState() == "open", Milestone: is.Milestone != nil}
	for _, l := range is.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	for _, a := range is.Assignees {
		out.Assignees = append(out.Assignees, a.GetLogin())
	}
	return out, nil
}

// lifecycleChecker is the lifecycle's check, acting through the worker's executor (dry-run
// included) and reading issues through the App when it may.
func lifecycleChecker(wc handlers.WorkerConfig, store handlers.Store, issues handlers.IssueReader, log *zap.Logger) *handlers.LifecycleChecker {
	lc := &handlers.LifecycleChecker{Config: wc.Config, Store: store, Executor: wc.Executor, Logger: log.Named("lifecycle"), Now: time.Now}
	if r, ok := issues.(handlers.LifecycleReader); ok {
		lc.Issues = r
	}
	return lc
}
