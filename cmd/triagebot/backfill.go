package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"
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

// backfillCmd walks one repository's open issues now, with the same checkpoint as the walk
// done on installation: a finished walk is not done again.
type backfillCmd struct {
	Repo string `arg:"" name:"owner/repo" help:"The repository, OWNER/REPO."`
	githubSettings
	queueSettings
	workerSettings
	logSettings
}

func (c *backfillCmd) Help() string {
	return "Walks OWNER/REPO's open issues once, as on installation: needs-triage for the untriaged ones and the priority their comment count reaches, without comments or notifications; with the lifecycle on, each issue's idle timer from its last update (once per repository, also when the lifecycle was turned on after the backfill). Resumes an interrupted walk; a finished one is not done again. With the embedded default, stop 'triagebot serve' first."
}

func (c *backfillCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	owner, name, ok := strings.Cut(c.Repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return withExit(2, fmt.Errorf("backfill: %q is not OWNER/REPO", c.Repo))
	}
	if err := checkSettings(kctx, &c.githubSettings, &c.queueSettings, &c.workerSettings, &c.logSettings); err != nil {
		return err
	}
	s := settings{githubSettings: c.githubSettings, queueSettings: c.queueSettings, workerSettings: c.workerSettings, logSettings: c.logSettings}
	gh, log, err := commandApp(s, o.stderr, "to backfill")
	if err != nil {
		return err
	}
	defer gh.Close()
	inst, _, err := gh.AppClient().Apps.FindRepositoryInstallation(ctx, owner, name)
	if err != nil {
		return withExit(1, fmt.Errorf("the App's installation on %s: %w", c.Repo, ghapp.Classify(err)))
	}
	repo, _, err := gh.Installation(inst.GetID()).Repositories.Get(ctx, owner, name)
	if err != nil {
		return withExit(1, fmt.Errorf("repository %s: %w", c.Repo, ghapp.Classify(err)))
	}
	a := &app{s: s, log: log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))}
	defer a.closeQueue()
	if err := a.connect(ctx); err != nil {
		return err
	}
	serverCfg, _, err := loadServerConfig(s.ConfigFile)
	if err != nil {
		return withExit(2, fmt.Errorf("TRIAGEBOT_CONFIG: %w", err))
	}
	side, err := newGitHubSide(gh, a.q, serverCfg.Defaults, log)
	if err != nil {
		return err
	}
	// Run by hand, it reads the configuration as it is now, not as cached by 'serve' minutes ago.
	for _, r := range []string{name, ghapp.OrgConfigRepo} {
		if err := side.config.Invalidate(ctx, owner, r); err != nil {
			return withExit(1, err)
		}
	}
	b := newBackfiller(side, a.q, log)
	// The lifecycle's idle timers go on the stream 'triagebot serve' runs them from.
	if b.Timers, err = handlers.SetupTimers(ctx, a.q.JetStream(), handlers.TimersConfig{Replicas: s.Replicas, DedupWindow: s.DedupWindow, Logger: log.Named("timers")}); err != nil {
		return withExit(1, err)
	}
	bar := progressLine{w: o.stdout, tty: isTerminal(o.stdout)}
	verb := "labelled"
	b.Progress = func(p handlers.BackfillProgress) {
		bar.update(fmt.Sprintf("%s: page %d: %d open issues looked at, %d %s", p.Repo, p.Pages, p.Issues, p.Changed, verb))
	}
	t := rules.Target{InstallationID: inst.GetID(), RepoID: repo.GetID(), Owner: owner, Name: name}
	p, err := b.Backfill(ctx, t, time.Time{})
	bar.done()
	if err != nil {
		return withExit(1, err)
	}
	switch {
	case p.Disabled:
		fmt.Fprintf(o.stdout, "%s: backfill is off in its configuration (backfill: false)\n", c.Repo)
	case p.Earlier:
		fmt.Fprintf(o.stdout, "%s: backfilled before; nothing to do\n", c.Repo)
	default:
		fmt.Fprintf(o.stdout, "%s: done: %d open issues looked at, %d labelled\n", c.Repo, p.Issues, p.Changed)
	}
	verb = "given an idle timer"
	lp, err := b.LifecycleWalk(ctx, t)
	bar.done()
	if err != nil {
		return withExit(1, err)
	}
	switch {
	case lp.Disabled:
	case lp.Earlier && p.Lifecycle && !p.Earlier:
		fmt.Fprintf(o.stdout, "%s: lifecycle: the backfill gave the open issues their idle timers\n", c.Repo)
	case lp.Earlier:
		fmt.Fprintf(o.stdout, "%s: lifecycle: idle timers scheduled before; nothing to do\n", c.Repo)
	default:
		fmt.Fprintf(o.stdout, "%s: lifecycle: done: %d open issues looked at, %d given an idle timer\n", c.Repo, lp.Issues, lp.Changed)
	}
	return nil
}

// progressLine shows progress: on a terminal one line rewritten in place, elsewhere (a log, a
// pipe) one line per update.
type progressLine struct {
	w     io.Writer
	tty   bool
	shown bool // a line is on the terminal without its newline
}

func (p *progressLine) update(line string) {
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[2K%s", line)
	p.shown = true
}

// done ends the line a terminal shows.
func (p *progressLine) done() {
	if p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
