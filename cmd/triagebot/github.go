package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// githubSide is the App's access to GitHub: the installation clients, the executor, the
// repository configuration and the read-only lookups of the rules.
type githubSide struct {
	app     *ghapp.App
	exec    *ghapp.Executor
	config  *ghapp.ConfigLoader
	lookups *ghapp.Lookups
}

// newApp checks the App credentials; nil without them.
func newApp(s settings, log *zap.Logger, opts startOptions) (*ghapp.App, error) {
	if s.AppID == 0 && s.PrivateKeyFile == "" {
		return nil, nil
	}
	if s.AppID == 0 {
		return nil, withExit(2, errors.New("TRIAGEBOT_APP_ID: required with TRIAGEBOT_PRIVATE_KEY_FILE"))
	}
	if s.PrivateKeyFile == "" {
		return nil, withExit(2, errors.New("TRIAGEBOT_PRIVATE_KEY_FILE: required with TRIAGEBOT_APP_ID"))
	}
	pem, err := os.ReadFile(s.PrivateKeyFile)
	if err != nil {
		return nil, withExit(2, fmt.Errorf("TRIAGEBOT_PRIVATE_KEY_FILE: %w", err))
	}
	app, err := ghapp.New(ghapp.Config{
		AppID:         s.AppID,
		PrivateKeyPEM: pem,
		BaseURL:       s.GitHubURL,
		Logger:        log.Named("github"),
		Transport:     opts.transport,
	}, opts.ghapp...)
	if err != nil {
		return nil, withExit(2, fmt.Errorf("TRIAGEBOT_PRIVATE_KEY_FILE: %w", err))
	}
	return app, nil
}

func newGitHubSide(app *ghapp.App, q *queue.Queue, defaults rules.Config, log *zap.Logger) (*githubSide, error) {
	// One clock for the App: revalidation and lookup expiry follow the same time as rate limits.
	cl, err := ghapp.NewConfigLoader(app, q.ConfigBucket(), defaults, ghapp.WithConfigLogger(log.Named("config")),
		ghapp.WithConfigClock(app.Clock()), ghapp.WithConfigReporter(auditConfig(q, log.Named("config"))))
	if err != nil {
		return nil, err
	}
	lk, err := ghapp.NewLookups(app, ghapp.WithLookupLogger(log.Named("lookup")), ghapp.WithLookupClock(app.Clock()))
	if err != nil {
		return nil, err
	}
	return &githubSide{app: app, exec: ghapp.NewExecutor(app, log.Named("executor")), config: cl, lookups: lk}, nil
}

// Installed creates (or adopts) and updates the labels the repository's configuration uses,
// and says which it created or updated (for the audit trail).
func (g *githubSide) Installed(ctx context.Context, installationID int64, owner, repo string) ([]string, error) {
	cfg, err := g.config.Load(ctx, installationID, owner, repo)
	if err != nil {
		return nil, err
	}
	sync, err := g.exec.EnsureLabels(ctx, installationID, owner, repo, ghapp.LabelSpecs(cfg.Config))
	changed := labelChanges(sync)
	if err != nil {
		return changed, err
	}
	return changed, g.config.Adopt(ctx, owner, repo, sync.Adopted)
}

// labelChanges names the labels EnsureLabels created, and those it updated.
func labelChanges(sync ghapp.LabelSync) []string {
	out := slices.Clone(sync.Created)
	for _, u := range sync.Updated {
		out = append(out, u+" (updated)")
	}
	return out
}

// Pushed reads the configuration again when a push changed it (or may have: a truncated
// payload), in the repository or in the organisation's .github repository, and creates the
// labels a repository's new configuration names, with their colours and descriptions, before
// the bot first adds them (GitHub would create them grey and undescribed). It says which labels
// it created or updated. A change of the organisation's defaults reaches every repository of the
// installation through the worker instead: one queued unit each (handlers.EventSyncRepository).
func (g *githubSide) Pushed(ctx context.Context, installationID int64, owner, repo string, paths []string) ([]string, error) {
	if !ghapp.TouchesConfig(paths) && !slices.Contains(paths, handlers.PushTruncated) {
		return nil, nil
	}
	if err := g.config.Invalidate(ctx, owner, repo); err != nil {
		return nil, err
	}
	if strings.EqualFold(repo, ghapp.OrgConfigRepo) {
		return nil, nil
	}
	return g.Installed(ctx, installationID, owner, repo)
}

var _ handlers.RepositoryLister = installationRepos{}

// installationRepos lists an installation's repositories (GET /installation/repositories).
type installationRepos struct{ app *ghapp.App }

func (r installationRepos) InstallationRepositories(ctx context.Context, installationID int64, page int) ([]*github.Repository, int, error) {
	list, resp, err := r.app.Installation(installationID).Apps.ListRepos(ctx, &github.ListOptions{PerPage: 100, Page: page})
	if err != nil {
		return nil, 0, ghapp.Classify(fmt.Errorf("list repositories of installation %d: %w", installationID, err))
	}
	return list.Repositories, resp.NextPage, nil
}

// RuleConfig names the audit records of configuration files (the repository's trail, issue 0).
const RuleConfig = "config"

// auditConfig records in the repository's audit trail that a configuration file cannot be used
// (once per version of it) or can be again.
func auditConfig(q *queue.Queue, log *zap.Logger) func(ctx context.Context, r ghapp.ConfigReport) {
	return func(ctx context.Context, r ghapp.ConfigReport) {
		res := rules.Result{Action: rules.Action{Rule: RuleConfig, Type: RuleConfig, Repo: r.Repo}, Status: rules.StatusDone}
		switch {
		case r.Note != "":
			res.Action.Reason = fmt.Sprintf("%s: %s", r.File, r.Note)
		case r.Problem == "":
			res.Action.Reason = fmt.Sprintf("%s %s is usable again", r.File, r.Path)
		case r.UsedLastGood:
			res.Status, res.Action.Reason = rules.StatusFailed, fmt.Sprintf("%s %s cannot be used (%s): using its last good version", r.File, r.Path, r.Problem)
		default:
			res.Status, res.Action.Reason = rules.StatusFailed, fmt.Sprintf("%s %s cannot be used (%s): it is left out", r.File, r.Path, r.Problem)
		}
		rec := handlers.AuditRecord{Time: time.Now().UTC(), Repo: r.Repo, Result: res}
		if err := q.Audit(ctx, r.RepoID, 0, rec); err != nil {
			log.Warn("audit record lost", zap.Error(err))
		}
	}
}

// shareLimits makes every process of the deployment keep one write pace and one view of the
// waits GitHub asks for, per installation (JetStream KV).
func shareLimits(ctx context.Context, app *ghapp.App, q *queue.Queue, log *zap.Logger) error {
	kv, err := q.Limits(ctx)
	if err != nil {
		return err
	}
	shared, err := ghapp.NewSharedLimits(ctx, kv, log.Named("limits"))
	if err != nil {
		return err
	}
	app.ShareLimits(shared)
	return nil
}
