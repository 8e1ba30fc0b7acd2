package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

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
	cl, err := ghapp.NewConfigLoader(app, q.ConfigBucket(), defaults, ghapp.WithConfigLogger(log.Named("config")), ghapp.WithConfigClock(app.Clock()))
	if err != nil {
		return nil, err
	}
	lk, err := ghapp.NewLookups(app, ghapp.WithLookupLogger(log.Named("lookup")), ghapp.WithLookupClock(app.Clock()))
	if err != nil {
		return nil, err
	}
	return &githubSide{app: app, exec: ghapp.NewExecutor(app, log.Named("executor")), config: cl, lookups: lk}, nil
}

// Installed creates the labels the repository's configuration names, and says which.
func (g *githubSide) Installed(ctx context.Context, installationID int64, owner, repo string) ([]string, error) {
	cfg, err := g.config.Load(ctx, installationID, owner, repo)
	if err != nil {
		return nil, err
	}
	return g.exec.EnsureLabels(ctx, installationID, owner, repo, ghapp.LabelSpecs(cfg.Config))
}

// Pushed reads the configuration again when a push changed it (or may have: a truncated
// payload), in the repository or in the organisation's .github repository, and creates the
// labels a repository's new configuration names, with their colours and descriptions, before
// the bot first adds them (GitHub would create them grey and undescribed).
func (g *githubSide) Pushed(ctx context.Context, installationID int64, owner, repo string, paths []string) ([]string, error) {
	if !ghapp.TouchesConfig(paths) && !slices.Contains(paths, handlers.PushTruncated) {
		return nil, nil
	}
	if err := g.config.Invalidate(ctx, owner, repo); err != nil {
		return nil, err
	}
	if strings.EqualFold(repo, ".github") {
		// The organisation's defaults: each repository gets its labels when next installed or
		// configured; listing every repository of the owner here is not worth a push.
		return nil, nil
	}
	return g.Installed(ctx, installationID, owner, repo)
}
