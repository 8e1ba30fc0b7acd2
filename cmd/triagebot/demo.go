package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/rules"
)

// demoCmd plays a scenario against the in-memory GitHub.
type demoCmd struct {
	Verbose bool `help:"Also print the bot's log."`
}

func (c *demoCmd) Help() string {
	return "Runs the whole pipeline on this machine with no account and no network: an in-memory GitHub, the webhook receiver, an embedded NATS JetStream and the workers, wired over real HTTP with a generated App key and webhook secret. It plays a short scenario and prints what the bot did on the in-memory GitHub, and why. Nothing is kept: the data lives in a temporary directory."
}

const demoRepoConfig = `priority:
  levels:
    - {label: "priority: high", at: 8}
    - {label: "priority: medium", at: 5}
    - {label: "priority: low", at: 2}
  hysteresis: 1
`

func (c *demoCmd) Run(ctx context.Context, o streams) error {
	stdout, stderr := o.stdout, o.stderr
	dir, err := os.MkdirTemp("", "triagebot-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := zap.NewNop()
	if c.Verbose {
		s := defaultSettings()
		s.LogFormat = "console"
		if log, err = newLogger(s, stderr); err != nil {
			return err
		}
	}
	l, err := startLocal(ctx, localConfig{Dir: dir, Log: log})
	if err != nil {
		return fmt.Errorf("start the pipeline: %w", err)
	}
	d := &demo{l: l, out: stdout}
	err = d.play(ctx)
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	return err
}

type demo struct {
	l      *local
	out    io.Writer
	step   int
	seen   int // audit records already printed
	repoID int64
}

const demoRepo = "octo-org/rocket"

func (d *demo) play(ctx context.Context) error {
	f := d.l.Fake
	fmt.Fprintf(d.out, "triagebot demo: the whole pipeline on this machine, against an in-memory GitHub\n")
	fmt.Fprintf(d.out, "(GitHub at %s, receiver at http://%s/webhook, JetStream embedded)\n\n", strings.TrimSuffix(d.l.App.s.GitHubURL, "/"), d.l.App.addr)

	if err := d.do(ctx, "the maintainers of octo-org install the App on "+demoRepo+", with a CODE_OF_CONDUCT.md and a .github/triagebot.yml", func() error {
		if _, err := f.InstallApp("octo-org", demoRepo); err != nil {
			return err
		}
		if err := f.PutFile(demoRepo, "CODE_OF_CONDUCT.md", []byte("# Code of conduct\n\nBe kind.\n")); err != nil {
			return err
		}
		return f.PutFile(demoRepo, ".github/triagebot.yml", []byte(demoRepoConfig))
	}); err != nil {
		return err
	}
	labels := make([]string, 0)
	for _, lb := range f.Labels(demoRepo) {
		labels = append(labels, lb.Name)
	}
	fmt.Fprintf(d.out, "   repository labels now: %s\n\n", strings.Join(labels, ", "))
	d.repoID = f.RepositoryID(demoRepo)

	var n int
	if err := d.do(ctx, `alice (first time here) opens an issue: "Support SSO login"`, func() (err error) {
		n, err = f.OpenIssue(demoRepo, "alice", "Support SSO login", "Our team would like to sign in with our identity provider.")
		return err
	}); err != nil {
		return err
	}
	users := []string{"bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan"}
	for i, batch := range [][]string{users[:2], users[2:5], users[5:]} {
		if err := d.do(ctx, fmt.Sprintf("%s comment: +1, we need this", strings.Join(batch, ", ")), func() error {
			for _, u := range batch {
				if _, err := f.Comment(demoRepo, n, u, fmt.Sprintf("+1, we need this (%d)", i)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if err := d.do(ctx, `mallory comments: "this is a stupid idea, you idiots"`, func() error {
		_, err := f.Comment(demoRepo, n, "mallory", "this is a stupid idea, you idiots")
		return err
	}); err != nil {
		return err
	}
	if err := f.SetPermission(demoRepo, "maya", "maintain"); err != nil {
		return err
	}
	if err := d.do(ctx, `maya (a maintainer) labels it "enhancement"`, func() error {
		return f.AddLabel(demoRepo, n, "maya", "enhancement")
	}); err != nil {
		return err
	}
	if err := d.do(ctx, "maya comments: /assign", func() error {
		_, err := f.Comment(demoRepo, n, "maya", "Thanks all, I'll take this.\n/assign")
		return err
	}); err != nil {
		return err
	}

	is, _ := f.Issue(demoRepo, n)
	bot := 0
	for _, c := range is.Comments {
		if c.User == f.BotLogin() {
			bot++
		}
	}
	st := f.RequestStats()
	fmt.Fprintf(d.out, "Final state of %s#%d: labels [%s], assignees [%s], %d comments (%d by %s)\n",
		demoRepo, n, strings.Join(is.Labels, ", "), strings.Join(is.Assignees, ", "), len(is.Comments), bot, f.BotLogin())
	fmt.Fprintf(d.out, "Webhook deliveries: %d (the bot's own changes come back as events and are skipped)\n", len(f.Deliveries()))
	fmt.Fprintf(d.out, "GitHub requests: %d reads, %d writes, %d answered 304 Not Modified\n", st.Reads, st.Writes, st.NotModified)
	return nil
}

// do runs one step of the scenario, waits until the bot has handled everything it caused, and
// prints what the bot did.
func (d *demo) do(ctx context.Context, what string, step func() error) error {
	d.step++
	fmt.Fprintf(d.out, "%d. %s\n", d.step, what)
	if err := step(); err != nil {
		return fmt.Errorf("step %d: %w", d.step, err)
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := d.l.Settle(sctx); err != nil {
		return fmt.Errorf("step %d: %w", d.step, err)
	}
	if d.repoID == 0 {
		return nil
	}
	recs, err := d.l.App.q.AuditTrail(ctx, d.repoID, 1, 0)
	if err != nil {
		return err
	}
	printed := false
	for _, raw := range recs[min(d.seen, len(recs)):] {
		var rec handlers.AuditRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		if line := describeResult(rec.Result); line != "" {
			fmt.Fprintf(d.out, "   → %-16s %s\n", rec.Result.Action.Rule, line)
			printed = true
		}
	}
	d.seen = len(recs)
	if !printed {
		fmt.Fprintln(d.out, "   → (nothing to do)")
	}
	fmt.Fprintln(d.out)
	return nil
}

func describeResult(r rules.Result) string {
	a := r.Action
	var what string
	switch a.Type {
	case rules.AddLabels:
		what = "added " + quoteAll(a.Labels)
	case rules.RemoveLabel:
		what = "removed " + quoteAll([]string{a.Label})
	case rules.Comment:
		first, _, _ := strings.Cut(strings.TrimSpace(a.Body), "\n")
		what = fmt.Sprintf("commented %q", first)
	case rules.React:
		what = "reacted " + a.Content
	case rules.Assign:
		what = "assigned " + strings.Join(a.Assignees, ", ")
	case rules.Unassign:
		what = "unassigned " + strings.Join(a.Assignees, ", ")
	case rules.Close:
		what = "closed (" + a.StateReason + ")"
	case rules.Reopen:
		what = "reopened"
	case rules.Notify:
		what = "notified maintainers (" + a.Channel + ")"
	default:
		what = string(a.Type)
	}
	status := ""
	if r.Status != rules.StatusDone {
		status = " [" + string(r.Status)
		if r.Detail != "" {
			status += ": " + r.Detail
		}
		status += "]"
	}
	return fmt.Sprintf("%s%s: %s", what, status, a.Reason)
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
