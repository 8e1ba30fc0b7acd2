package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/alecthomas/kong"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/ghapp"
)

// redeliverCmd asks GitHub to redeliver the App's failed deliveries.
type redeliverCmd struct {
	Since time.Duration `default:"24h" help:"How far back to look, at most 72h (GitHub keeps deliveries 3 days)."`
	List  bool          `help:"Only list the failed deliveries; redeliver nothing."`
	githubSettings
	logSettings
}

func (c *redeliverCmd) Help() string {
	return "Asks GitHub to redeliver the App's webhook deliveries that failed (no 2xx) in the last --since. Safe to run any time: the receiver stores a delivery id once."
}

func (c *redeliverCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	if c.Since <= 0 || c.Since > 72*time.Hour {
		return withExit(2, fmt.Errorf("--since: %s is not a duration up to 72h (GitHub keeps deliveries 3 days)", c.Since))
	}
	if err := checkSettings(kctx, &c.githubSettings, &c.logSettings); err != nil {
		return err
	}
	since, dry, stdout := c.Since, c.List, o.stdout
	s := settings{githubSettings: c.githubSettings, logSettings: c.logSettings}
	app, _, err := commandApp(s, o.stderr, "to ask GitHub for redeliveries")
	if err != nil {
		return err
	}
	defer app.Close()
	reds, err := app.RedeliverFailed(ctx, time.Now().Add(-since), dry)
	if err != nil {
		return withExit(1, err)
	}
	failed := 0
	for _, r := range reds {
		verb := "redelivered"
		switch {
		case r.Err != nil:
			verb, failed = "FAILED to redeliver", failed+1
		case dry:
			verb = "failed, not redelivered (--list)"
		}
		fmt.Fprintf(stdout, "%s %s %s.%s (answered %d at %s)\n", verb, r.GUID, r.Event, r.Action, r.StatusCode, r.DeliveredAt.Format(time.RFC3339))
		if r.Err != nil {
			fmt.Fprintf(stdout, "  %v\n", r.Err)
		}
	}
	if len(reds) == 0 {
		fmt.Fprintf(stdout, "no failed deliveries in the last %s\n", since)
	}
	if failed > 0 {
		return withExit(1, fmt.Errorf("%d redeliveries failed", failed))
	}
	return nil
}

// commandApp is the logger and the App of a one-off command that needs App credentials; the
// App's own log is kept to warnings.
func commandApp(s settings, stderr io.Writer, purpose string) (*ghapp.App, *zap.Logger, error) {
	log, err := newLogger(s, stderr)
	if err != nil {
		return nil, nil, withExit(2, err)
	}
	app, err := newApp(s, log.WithOptions(zap.IncreaseLevel(zap.WarnLevel)), startOptions{})
	if err != nil {
		return nil, nil, err
	}
	if app == nil {
		return nil, nil, withExit(2, fmt.Errorf("TRIAGEBOT_APP_ID and TRIAGEBOT_PRIVATE_KEY_FILE: required %s", purpose))
	}
	return app, log, nil
}
