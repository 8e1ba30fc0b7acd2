package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// backfillSource lists a repository's open issues for the backfill, oldest first (so that a
// page number stays a valid checkpoint while new issues arrive).
type backfillSource struct{ app *ghapp.App }

var _ handlers.BackfillSource = backfillSource{}

func (s backfillSource) OpenIssues(ctx context.Context, t rules.Target, page int) ([]*github.Issue, int, error) {
	opts := &github.IssueListByRepoOptions{State: "open", Sort: "created", Direction: "asc",
		ListOptions: github.ListOptions{PerPage: 100, Page: page}}
	issues, resp, err := s.app.Installation(t.InstallationID).Issues.ListByRepo(ctx, t.Owner, t.Name, opts)
	if err != nil {
		return nil, 0, ghapp.Classify(fmt.Errorf("list open issues of %s: %w", t.FullName(), err))
	}
	return issues, resp.NextPage, nil
}

func newBackfiller(side *githubSide, q *queue.Queue, log *zap.Logger) *handlers.Backfiller {
	return &handlers.Backfiller{Source: backfillSource{app: side.app}, Config: side.config, Store: q, Executor: side.exec,
		Logger: log.Named("backfill")}
}

// cmdBackfill walks one repository's open issues now, with the same checkpoint as the walk
// done on installation: a finished walk is not done again.
func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var target string
	var rest []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") && target == "" && strings.Contains(a, "/") {
			target = a
			continue
		}
		rest = append(rest, a)
	}
	s, err := parseSettings("backfill", rest, os.LookupEnv, stdout)
	if err != nil {
		return err
	}
	owner, name, ok := strings.Cut(target, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return withExit(2, fmt.Errorf("usage: triagebot backfill OWNER/REPO (got %q)", target))
	}
	gh, log, err := commandApp(s, stderr, "to backfill")
	if err != nil {
		return err
	}
	defer gh.Close()
	inst, _, err := gh.AppClient().Apps.FindRepositoryInstallation(ctx, owner, name)
	if err != nil {
		return withExit(1, fmt.Errorf("the App's installation on %s: %w", target, ghapp.Classify(err)))
	}
	repo, _, err := gh.Installation(inst.GetID()).Repositories.Get(ctx, owner, name)
	if err != nil {
		return withExit(1, fmt.Errorf("repository %s: %w", target, ghapp.Classify(err)))
	}
	a := &app{s: s, log: log}
	if err := a.connect(ctx); err != nil {
		return err
	}
	defer a.closeQueue()
	serverCfg, _, err := loadServerConfig(s.ConfigFile)
	if err != nil {
		return withExit(2, fmt.Errorf("TRIAGEBOT_CONFIG: %w", err))
	}
	side, err := newGitHubSide(gh, a.q, serverCfg.Defaults, log)
	if err != nil {
		return err
	}
	b := newBackfiller(side, a.q, log)
	b.Progress = func(p handlers.BackfillProgress) {
		fmt.Fprintf(stdout, "%s: page %d: %d open issues looked at, %d labelled\n", p.Repo, p.Pages, p.Issues, p.Changed)
	}
	t := rules.Target{InstallationID: inst.GetID(), RepoID: repo.GetID(), Owner: owner, Name: name}
	p, err := b.Backfill(ctx, t)
	if err != nil {
		return withExit(1, err)
	}
	switch {
	case p.Disabled:
		fmt.Fprintf(stdout, "%s: backfill is off in its configuration (backfill: false)\n", target)
	case p.Earlier:
		fmt.Fprintf(stdout, "%s: backfilled before; nothing to do\n", target)
	default:
		fmt.Fprintf(stdout, "%s: done: %d open issues looked at, %d labelled\n", target, p.Issues, p.Changed)
	}
	return nil
}
