package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// githubCommenter posts a github channel's comment through the App's executor, keyed by the
// notification's ID: a digest sent again edits (or finds) its comment instead of posting twice.
type githubCommenter struct {
	exec  *ghapp.Executor
	store *queue.Queue
	app   *ghapp.App
}

var _ notify.Commenter = githubCommenter{}

func (c githubCommenter) Comment(ctx context.Context, n notify.Notification, body string) error {
	owner, name, ok := strings.Cut(n.Repo, "/")
	if !ok {
		return queue.Permanent(fmt.Errorf("notification %s: repository %q is not owner/name", n.ID, n.Repo))
	}
	var inst handlers.RepoInstallation
	if _, err := c.store.LoadMemory(ctx, handlers.InstallationKey(n.Repo), &inst); err != nil {
		return err
	}
	if inst.ID == 0 {
		// Not seen by this deployment's workers: ask GitHub which installation serves it.
		i, _, err := c.app.AppClient().Apps.FindRepositoryInstallation(ctx, owner, name)
		if err != nil {
			return ghapp.Classify(fmt.Errorf("installation of %s: %w", n.Repo, err))
		}
		inst.ID = i.GetID()
	}
	t := rules.Target{DeliveryID: n.ID, InstallationID: inst.ID, Owner: owner, Name: name, Number: n.Number}
	_, err := c.exec.Execute(ctx, t, []rules.Action{{
		Rule: rules.RuleNotify, Type: rules.Comment, Repo: n.Repo, Number: n.Number, Body: body,
		Key:    strings.Join(strings.Fields(n.ID), "_"),
		Reason: "a notification route asks for " + n.Route,
	}})
	return err
}

// logCommenter is the github channel in dry-run: it says what it would post.
type logCommenter struct{ log *zap.Logger }

func (c logCommenter) Comment(_ context.Context, n notify.Notification, body string) error {
	c.log.Info("dry run: notification comment not posted", zap.String(handlers.LogKeyRepo, n.Repo),
		zap.Int(handlers.LogKeyNumber, n.Number), zap.String("notification_id", n.ID), zap.String("body", body))
	return nil
}

// issueReader reads an issue through the App for the untriaged check.
type issueReader struct{ app *ghapp.App }

func (r issueReader) IssueState(ctx context.Context, installationID int64, owner, repo string, number int) (handlers.IssueState, error) {
	is, _, err := r.app.Installation(installationID).Issues.Get(ctx, owner, repo, number)
	if err != nil {
		return handlers.IssueState{}, ghapp.Classify(err)
	}
	st := handlers.IssueState{Open: is.GetState() == "open", Title: is.GetTitle(), URL: is.GetHTMLURL()}
	for _, l := range is.Labels {
		st.Labels = append(st.Labels, l.GetName())
	}
	return st, nil
}

// untriagedSource lists, for the untriaged sweep, the repositories the App is installed on and
// their open issues carrying the needs-triage label.
type untriagedSource struct{ app *ghapp.App }

var _ handlers.UntriagedSource = untriagedSource{}

func (s untriagedSource) Repositories(ctx context.Context) ([]rules.Target, error) {
	var out []rules.Target
	opts := &github.ListOptions{PerPage: 100}
	for {
		insts, resp, err := s.app.AppClient().Apps.ListInstallations(ctx, opts)
		if err != nil {
			return nil, ghapp.Classify(fmt.Errorf("list installations: %w", err))
		}
		for _, in := range insts {
			if in.SuspendedAt != nil {
				continue
			}
			repos, err := s.repositories(ctx, in.GetID())
			if err != nil {
				return nil, err
			}
			out = append(out, repos...)
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

func (s untriagedSource) repositories(ctx context.Context, installationID int64) ([]rules.Target, error) {
	var out []rules.Target
	for page := 1; page != 0; {
		repos, next, err := installationRepos(s).InstallationRepositories(ctx, installationID, page)
		if err != nil {
			return nil, err
		}
		for _, r := range repos {
			if r.GetArchived() || (r.HasIssues != nil && !*r.HasIssues) {
				continue
			}
			out = append(out, rules.Target{InstallationID: installationID, RepoID: r.GetID(), Owner: r.GetOwner().GetLogin(), Name: r.GetName()})
		}
		page = next
	}
	return out, nil
}

func (s untriagedSource) OpenIssuesWithLabel(ctx context.Context, t rules.Target, label string) ([]notify.UntriagedIssue, error) {
	var out []notify.UntriagedIssue
	opts := &github.IssueListByRepoOptions{State: "open", Labels: []string{label}, ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := s.app.Installation(t.InstallationID).Issues.ListByRepo(ctx, t.Owner, t.Name, opts)
		if err != nil {
			return nil, ghapp.Classify(fmt.Errorf("list issues labelled %q in %s: %w", label, t.FullName(), err))
		}
		for _, is := range page {
			if is.IsPullRequest() {
				continue
			}
			out = append(out, notify.UntriagedIssue{Repo: t.FullName(), Number: is.GetNumber(), Title: is.GetTitle(),
				URL: is.GetHTMLURL(), OpenedAt: is.GetCreatedAt().Time, Label: label})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
