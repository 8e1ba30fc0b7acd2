package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

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

// Installed creates the labels the repository's configuration names.
func (g *githubSide) Installed(ctx context.Context, installationID int64, owner, repo string) error {
	cfg, err := g.config.Load(ctx, installationID, owner, repo)
	if err != nil {
		return err
	}
	return g.exec.EnsureLabels(ctx, installationID, owner, repo, ghapp.LabelSpecs(cfg.Config))
}

// Pushed reads the configuration again when a push changed it (or may have: a truncated
// payload), in the repository or in the organisation's .github repository, and creates the
// labels a repository's new configuration names, with their colours and descriptions, before
// the bot first adds them (GitHub would create them grey and undescribed).
func (g *githubSide) Pushed(ctx context.Context, installationID int64, owner, repo string, paths []string) error {
	if !ghapp.TouchesConfig(paths) && !slices.Contains(paths, handlers.PushTruncated) {
		return nil
	}
	if err := g.config.Invalidate(ctx, owner, repo); err != nil {
		return err
	}
	if strings.EqualFold(repo, ".github") {
		// The organisation's defaults: each repository gets its labels when next installed or
		// configured; listing every repository of the owner here is not worth a push.
		return nil
	}
	return g.Installed(ctx, installationID, owner, repo)
}

// RuleConfig names the audit records of configuration files (the repository's trail, issue 0).
const RuleConfig = "config"

// auditConfig records in the repository's audit trail that a configuration file cannot be used
// (once per version of it) or can be again.
func auditConfig(q *queue.Queue, log *zap.Logger) func(ctx context.Context, r ghapp.ConfigReport) {
	return func(ctx context.Context, r ghapp.ConfigReport) {
		res := rules.Result{Action: rules.Action{Rule: RuleConfig, Type: RuleConfig, Repo: r.Repo}, Status: rules.StatusDone}
		switch {
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
