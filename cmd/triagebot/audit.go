package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/queue"
)

const auditUsage = `Prints the audit trail of a repository or an issue: every side effect of the bot, oldest first.

  triagebot audit [flags] OWNER/REPO[#N] [--since DUR] [--json]

--since DUR   how far back (default 7d; h, m, s and d units: 36h, 30d)
--json        one JSON record a line instead of a table

With the embedded default, stop 'triagebot serve' first: one data directory serves one process.`

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	since, asJSON := 7*24*time.Hour, false
	var rest []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--help" || a == "-h":
			fmt.Fprintln(stdout, "Usage:\n"+auditUsage)
			return errHelp
		case a == "--json":
			asJSON = true
		case a == "--since" && i+1 < len(args):
			d, err := parseSince(args[i+1])
			if err != nil {
				return withExit(2, fmt.Errorf("--since: %w", err))
			}
			since = d
			i++
		case a == "--since":
			return withExit(2, errors.New("--since: give a duration such as 24h or 7d"))
		default:
			rest = append(rest, a)
		}
	}
	s, pos, err := parseSettingsArgs("audit", rest, os.LookupEnv, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "Usage:\n"+auditUsage)
		return withExit(2, errors.New("audit: name one OWNER/REPO or OWNER/REPO#N"))
	}
	repo, number, err := parseIssueRef(pos[0])
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
		fmt.Fprintf(stdout, "no audit records of %s in the last %s\n", pos[0], since)
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
