package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/ghapp"
)

func cmdRedeliver(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var since time.Duration = 24 * time.Hour
	var dry bool
	var rest []string
	// --since and --list are the command's own; the rest are the usual settings.
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--list":
			dry = true
		case a == "--since" && i+1 < len(args):
			d, err := time.ParseDuration(args[i+1])
			if err != nil || d <= 0 || d > 72*time.Hour {
				return withExit(2, fmt.Errorf("--since: %q is not a duration up to 72h (GitHub keeps deliveries 3 days)", args[i+1]))
			}
			since = d
			i++
		default:
			rest = append(rest, a)
		}
	}
	s, err := parseSettings("redeliver", rest, os.LookupEnv, stdout)
	if err != nil {
		return err
	}
	app, _, err := commandApp(s, stderr, "to ask GitHub for redeliveries")
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
