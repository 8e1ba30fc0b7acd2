package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/queue"
)

const auditHelp = `Prints the audit trail of a repository or an issue: every side effect of the bot, oldest first.
With the embedded default, stop 'triagebot serve' first: one data directory serves one process.`

// auditCmd prints an audit trail.
type auditCmd struct {
	queueSettings
	logSettings
	Target string `arg:"" name:"OWNER/REPO[#N]" help:"The repository, or one of its issues."`
	Since  string `default:"7d" help:"How far back: h, m, s or d units (36h, 30d)."`
	JSON   bool   `name:"json" help:"One JSON record a line instead of a table."`
}

func (c *auditCmd) Help() string { return auditHelp }

func (c *auditCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	if err := checkSettings(kctx, &c.queueSettings, &c.logSettings); err != nil {
		return err
	}
	since, err := parseSince(c.Since)
	if err != nil {
		return withExit(2, fmt.Errorf("--since: %w", err))
	}
	s := settings{queueSettings: c.queueSettings, logSettings: c.logSettings}
	return runAudit(ctx, s, c.Target, since, c.JSON, o.stdout, o.stderr)
}

func runAudit(ctx context.Context, s settings, target string, since time.Duration, asJSON bool, stdout, stderr io.Writer) error {
	repo, number, err := parseIssueRef(target)
	if err != nil {
		return withExit(2, fmt.Errorf("audit: %w", err))
	}
	a, err := openQueue(ctx, s, stderr)
	if err != nil {
		return err
	}
	defer a.closeQueue()
	var recs []handlers.AuditRecord
	err = a.q.ScanAudit(ctx, queue.AuditScan{Since: time.Now().Add(-since)}, func(e queue.AuditEntry) bool {
		var rec handlers.AuditRecord
		if json.Unmarshal(e.Data, &rec) == nil && strings.EqualFold(rec.Repo, repo) && (number == 0 || rec.Number == number) {
			recs = append(recs, rec)
		}
		return true
	})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(recs) == 0 {
		fmt.Fprintf(stdout, "no audit records of %s in the last %s\n", target, since)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tISSUE\tRULE\tACTION\tSTATUS\tREASON\tDELIVERY")
	for _, r := range recs {
		issue := r.Repo
		if r.Number != 0 {
			issue += "#" + strconv.Itoa(r.Number)
		}
		status := string(r.Result.Status)
		if r.Result.Detail != "" {
			status += " (" + r.Result.Detail + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.UTC().Format(time.RFC3339), issue, r.Result.Action.Rule,
			oneLine(r.What()), oneLine(status), oneLine(r.Result.Action.Reason), r.DeliveryID)
	}
	return tw.Flush()
}

// oneLine keeps a table row on one line: user text may hold tabs and line breaks.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// parseSince reads a Go duration, or whole days ("7d").
func parseSince(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a positive duration such as 24h or 7d", v)
}

// parseIssueRef reads OWNER/REPO or OWNER/REPO#N.
func parseIssueRef(v string) (string, int, error) {
	repo, num, hasNum := strings.Cut(v, "#")
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", 0, fmt.Errorf("%q is not OWNER/REPO or OWNER/REPO#N", v)
	}
	if !hasNum {
		return repo, 0, nil
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return "", 0, fmt.Errorf("%q: the issue number %q is not a positive number", v, num)
	}
	return repo, n, nil
}

// openQueue connects a command (dlq, audit) to the queue: warnings only in its log, and a clear
// word when serve holds the embedded store.
func openQueue(ctx context.Context, s settings, stderr io.Writer) (*app, error) {
	if s.NATSURL == "" {
		// A command that reads a store must not create one where there is none.
		if _, err := os.Stat(filepath.Join(s.DataDir, "jetstream")); err != nil {
			return nil, withExit(2, fmt.Errorf("TRIAGEBOT_DATA_DIR: no triagebot store in %s (set TRIAGEBOT_DATA_DIR to the directory 'triagebot serve' uses)", s.DataDir))
		}
	}
	log, err := newLogger(s, stderr)
	if err != nil {
		return nil, withExit(2, err)
	}
	a := &app{s: s, log: log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))}
	if err := a.connect(ctx); err != nil {
		a.closeQueue()
		if errors.Is(err, queue.ErrDataDirInUse) {
			return nil, withExit(2, fmt.Errorf("TRIAGEBOT_DATA_DIR: %w; stop 'triagebot serve' first", err))
		}
		return nil, err
	}
	return a, nil
}
