package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/triagebot/triagebot/internal/ghfake"
)

const soakUsage = `Runs triagebot serve as a child process against an in-memory GitHub, sends it a bounded load
with duplicate deliveries, GitHub errors and rate limits, kills it with SIGKILL and restarts it
on the same data directory every few hundred deliveries, lets it drain, and prints the lost
effects, duplicated effects, undone triage, dead letters and the drain time. Exit status 1 on
any of the first four.`

// soakConfig bounds a soak run.
type soakConfig struct {
	Deliveries    int           // webhook deliveries to make in all (the bot's own events count)
	Issues        int           // issues opened at most
	Installations int           // installations, one repository each
	Duplicates    float64       // share of deliveries that send an earlier delivery id again
	KillEvery     int           // SIGKILL and restart after this many deliveries (0: never)
	ErrorRate     float64       // share of GitHub API requests answered 5xx
	LimitEvery    int           // a 429 with Retry-After after this many deliveries (0: never)
	Limit         time.Duration // the whole run, drain included
	Seed          uint64
	Bin           string // the triagebot binary (default: this one)
	// the bot's TRIAGEBOT_RECONCILE_EVERY and TRIAGEBOT_RECONCILE_PACE
	ReconcileEvery, ReconcilePace time.Duration
}

// soakReport is what a soak run found.
type soakReport struct {
	Deliveries, DuplicatesSent, Failed, Kills int
	Issues, Triaged                           int
	Lost, Duplicated, Undone, DeadLetters     int
	Drain                                     time.Duration
	Problems                                  []string
}

func (r soakReport) ok() bool { return r.Lost+r.Duplicated+r.Undone+r.DeadLetters == 0 }

func (r soakReport) print(w io.Writer) {
	fmt.Fprintf(w, "deliveries %d (duplicate ids sent %d, failed attempts %d), kills %d, issues %d (triaged by a maintainer %d)\n",
		r.Deliveries, r.DuplicatesSent, r.Failed, r.Kills, r.Issues, r.Triaged)
	fmt.Fprintf(w, "lost effects %d, duplicated effects %d, undone triage %d, dead letters %d, drain %.1fs\n",
		r.Lost, r.Duplicated, r.Undone, r.DeadLetters, r.Drain.Seconds())
	for _, p := range r.Problems {
		fmt.Fprintln(w, "  "+p)
	}
}

// soakCmd is 'triagebot soak'.
type soakCmd struct {
	Deliveries     int           `default:"2000" help:"Webhook deliveries in all, the bot's own events included."`
	Issues         int           `default:"200" help:"Issues opened at most."`
	Installations  int           `default:"10" help:"Installations, one repository each."`
	Duplicates     float64       `default:"0.2" help:"Share of deliveries that repeat an earlier delivery id."`
	KillEvery      int           `default:"330" help:"SIGKILL and restart the bot after this many deliveries (0: never)."`
	ErrorRate      float64       `default:"0.02" help:"Share of GitHub API requests answered 500/502."`
	LimitEvery     int           `default:"150" help:"A 429 with Retry-After after this many deliveries (0: never)."`
	Limit          time.Duration `default:"15m" help:"The whole run, drain included."`
	Seed           uint64        `default:"1" help:"Seed of the load's choices."`
	Bin            string        `help:"The triagebot binary to run (default: this one)."`
	ReconcileEvery time.Duration `default:"3s" help:"The bot's TRIAGEBOT_RECONCILE_EVERY."`
	ReconcilePace  time.Duration `default:"100ms" help:"The bot's TRIAGEBOT_RECONCILE_PACE."`
}

func (c *soakCmd) Help() string { return soakUsage }

func (c *soakCmd) Run(ctx context.Context, o streams) error {
	cfg := soakConfig{Deliveries: c.Deliveries, Issues: c.Issues, Installations: c.Installations, Duplicates: c.Duplicates,
		KillEvery: c.KillEvery, ErrorRate: c.ErrorRate, LimitEvery: c.LimitEvery, Limit: c.Limit, Seed: c.Seed, Bin: c.Bin,
		ReconcileEvery: c.ReconcileEvery, ReconcilePace: c.ReconcilePace}
	switch {
	case cfg.Deliveries < 1 || cfg.Issues < 1 || cfg.Installations < 1:
		return withExit(2, errors.New("--deliveries, --issues and --installations must be positive"))
	case cfg.Duplicates < 0 || cfg.Duplicates >= 1 || cfg.ErrorRate < 0 || cfg.ErrorRate >= 1:
		return withExit(2, errors.New("--duplicates and --error-rate must be in [0, 1)"))
	case cfg.KillEvery < 0 || cfg.LimitEvery < 0 || cfg.Limit <= 0 || cfg.ReconcileEvery <= 0 || cfg.ReconcilePace <= 0:
		return withExit(2, errors.New("--kill-every and --limit-every must not be negative; --limit, --reconcile-every and --reconcile-pace must be positive"))
	}
	if cfg.Bin == "" {
		bin, err := os.Executable()
		if err != nil {
			return err
		}
		cfg.Bin = bin
	}
	rep, err := runSoak(ctx, cfg, o.stderr)
	if err != nil {
		return withExit(1, err)
	}
	rep.print(o.stdout)
	if !rep.ok() {
		return withExit(1, errors.New("the soak lost or duplicated effects"))
	}
	return nil
}

// soakBot is the bot under test: a triagebot serve child process.
type soakBot struct {
	bin  string
	env  []string
	addr string
	logs *os.File
	cmd  *exec.Cmd
}

func (b *soakBot) start(ctx context.Context) error {
	cmd := exec.Command(b.bin, "serve")
	cmd.Env, cmd.Stderr, cmd.Stdout = b.env, b.logs, b.logs
	if err := cmd.Start(); err != nil {
		return err
	}
	b.cmd = cmd
	ready, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ready, http.MethodGet, "http://"+b.addr+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ready.Done():
			return fmt.Errorf("the bot was not ready within 30s (log: %s)", b.logs.Name())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (b *soakBot) stop(sig syscall.Signal) {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(sig)
	_ = b.cmd.Wait()
	b.cmd = nil
}

func runSoak(ctx context.Context, cfg soakConfig, progress io.Writer) (rep soakReport, err error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Limit)
	defer cancel()
	dir, err := os.MkdirTemp("", "triagebot-soak")
	if err != nil {
		return soakReport{}, err
	}
	defer func() {
		if rep.ok() && err == nil {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintf(progress, "soak: the bot's log and data are kept in %s\n", dir)
		}
	}()
	fake := ghfake.New(ghfake.WithPrefix("/api/v3/"))
	defer fake.Close()
	gh := httptest.NewServer(fake)
	defer gh.Close()
	app, err := fake.BotEnv(dir, gh.URL)
	if err != nil {
		return soakReport{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return soakReport{}, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logs, err := os.Create(filepath.Join(dir, "bot.log"))
	if err != nil {
		return soakReport{}, err
	}
	defer logs.Close()
	const secret = "soak-secret"
	bot := &soakBot{bin: cfg.Bin, addr: addr, logs: logs, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"TRIAGEBOT_WEBHOOK_SECRET=" + secret,
		"TRIAGEBOT_LISTEN=" + addr,
		"TRIAGEBOT_ADMIN_LISTEN=off", // the soak reads no status page, and its port would be taken
		"TRIAGEBOT_DATA_DIR=" + filepath.Join(dir, "data"),
		"TRIAGEBOT_ACK_WAIT=3s",
		"TRIAGEBOT_RECONCILE_EVERY=" + cfg.ReconcileEvery.String(),
		"TRIAGEBOT_RECONCILE_PACE=" + cfg.ReconcilePace.String(),
		"TRIAGEBOT_LOG_LEVEL=info",
	}}
	for k, v := range app {
		bot.env = append(bot.env, k+"="+v)
	}
	defer bot.stop(syscall.SIGKILL)
	if err := bot.start(ctx); err != nil {
		return soakReport{}, err
	}
	fake.SetWebhook("http://"+addr+"/webhook", secret)
	if err := fake.SetFaults(ghfake.Faults{ErrorRate: cfg.ErrorRate, Seed: cfg.Seed}); err != nil {
		return soakReport{}, err
	}
	l := &soakLoad{cfg: cfg, fake: fake, rng: rand.New(rand.NewPCG(cfg.Seed, 7)), triagedAt: map[issueRef]int64{}}
	for k := 1; k <= cfg.Installations; k++ {
		repo := fmt.Sprintf("org%d/repo", k)
		if _, err := fake.InstallApp(fmt.Sprintf("org%d", k), repo); err != nil {
			return rep, err
		}
		if err := fake.SetPermission(repo, "maya", "maintain"); err != nil {
			return rep, err
		}
		l.repos = append(l.repos, repo)
	}
	lastKill, lastLimit := 0, 0
	for {
		total, queued := fake.DeliveryCounts()
		if total >= cfg.Deliveries {
			break
		}
		if ctx.Err() != nil {
			return rep, fmt.Errorf("load not sent within --limit: %w", ctx.Err())
		}
		if queued > 20 { // GitHub sends one at a time here: let it catch up
			_ = fake.Wait(ctx, func() bool { _, q := fake.DeliveryCounts(); return q <= 5 })
			continue
		}
		if cfg.KillEvery > 0 && total-lastKill >= cfg.KillEvery {
			lastKill = total
			bot.stop(syscall.SIGKILL)
			rep.Kills++
			fmt.Fprintf(progress, "soak: %d deliveries, bot killed (%d), restarting\n", total, rep.Kills)
			if err := bot.start(ctx); err != nil {
				return rep, err
			}
		}
		if cfg.LimitEvery > 0 && total-lastLimit >= cfg.LimitEvery {
			lastLimit = total
			if err := fake.InjectSecondaryLimit(2, http.StatusTooManyRequests, time.Second); err != nil {
				return rep, err
			}
		}
		if err := l.step(); err != nil {
			return rep, err
		}
	}
	fmt.Fprintf(progress, "soak: load sent, draining\n")
	drainStart := time.Now()
	if err := l.drain(ctx); err != nil {
		return rep, err
	}
	rep.Drain = time.Since(drainStart)
	bot.stop(syscall.SIGTERM)
	if rep.DeadLetters, err = soakDeadLetters(ctx, bot); err != nil {
		return rep, err
	}
	l.judge(&rep)
	return rep, nil
}

// soakDeadLetters counts the dead letters the stopped bot left, with triagebot dlq list.
func soakDeadLetters(ctx context.Context, bot *soakBot) (int, error) {
	cmd := exec.CommandContext(ctx, bot.bin, "dlq", "list")
	cmd.Env = bot.env
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("dlq list: %w", err)
	}
	if bytes.Contains(out, []byte("no dead letters")) {
		return 0, nil
	}
	return max(bytes.Count(out, []byte("\n"))-1, 0), nil
}

type issueRef struct {
	repo   string
	number int
}

// soakLoad makes the load: maintainers, users and GitHub's duplicate deliveries.
type soakLoad struct {
	cfg       soakConfig
	fake      *ghfake.Server
	rng       *rand.Rand
	repos     []string
	issues    []issueRef
	users     int
	triagedAt map[issueRef]int64 // the delivery id of the maintainer's triage
}

func (l *soakLoad) step() error {
	r := l.rng.Float64()
	switch {
	case r < l.cfg.Duplicates && len(l.issues) > 0:
		// Someone redelivers an earlier delivery (ids are 1, 2, ...): same delivery id.
		total, _ := l.fake.DeliveryCounts()
		return l.fake.Redeliver(int64(1 + l.rng.IntN(total)))
	case len(l.issues) < l.cfg.Issues && (len(l.issues) == 0 || r < l.cfg.Duplicates+0.35):
		repo := l.repos[l.rng.IntN(len(l.repos))]
		l.users++
		n, err := l.fake.OpenIssue(repo, fmt.Sprintf("user%d", l.users), fmt.Sprintf("idea %d", l.users), "it would help")
		if err != nil {
			return err
		}
		l.issues = append(l.issues, issueRef{repo, n})
		return nil
	case r < l.cfg.Duplicates+0.5:
		is := l.issues[l.rng.IntN(len(l.issues))]
		if _, done := l.triagedAt[is]; done {
			return nil
		}
		total, _ := l.fake.DeliveryCounts()
		l.triagedAt[is] = int64(total) // deliveries from here on come after the triage
		return l.fake.AddLabel(is.repo, is.number, "maya", "accepted")
	default:
		is := l.issues[l.rng.IntN(len(l.issues))]
		_, err := l.fake.Comment(is.repo, is.number, fmt.Sprintf("fan%d", l.rng.IntN(50)), "me too")
		return err
	}
}

// drain waits until every effect the load calls for is there and GitHub has been quiet (no
// delivery, no request but the reconciler's listings) for three seconds.
func (l *soakLoad) drain(ctx context.Context) error {
	quietSince, lastReqs, lastDel := time.Now(), -1, -1
	for {
		reqs := 0
		for _, r := range l.fake.Requests() {
			if r.Route != "/app/hook/deliveries" {
				reqs++
			}
		}
		total, queued := l.fake.DeliveryCounts()
		if reqs != lastReqs || total != lastDel || queued > 0 {
			quietSince, lastReqs, lastDel = time.Now(), reqs, total
		}
		if time.Since(quietSince) > 3*time.Second {
			var rep soakReport
			l.judge(&rep)
			if rep.Lost == 0 || time.Since(quietSince) > 20*time.Second {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not drained within --limit: %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

var markerRE = regexp.MustCompile(`<!-- triagebot:[^>]*-->`)

// judge compares GitHub's final state and history with what the load called for.
func (l *soakLoad) judge(rep *soakReport) {
	bot := l.fake.BotLogin()
	rep.Issues, rep.Triaged = len(l.issues), len(l.triagedAt)
	type labelEvent struct {
		id     int64
		action string
		label  string
		sender string
	}
	history := map[issueRef][]labelEvent{}
	for _, d := range l.fake.Deliveries() {
		rep.Deliveries++
		if d.Redelivery {
			rep.DuplicatesSent++
		}
		if d.Delivered && (d.StatusCode < 200 || d.StatusCode >= 300) {
			rep.Failed++
		}
		if d.Event != "issues" || d.Redelivery || (d.Action != "labeled" && d.Action != "unlabeled") {
			continue
		}
		var ev struct {
			Issue  struct{ Number int }   `json:"issue"`
			Label  struct{ Name string }  `json:"label"`
			Sender struct{ Login string } `json:"sender"`
			Repo   struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		}
		if json.Unmarshal(d.Payload, &ev) != nil {
			continue
		}
		ref := issueRef{ev.Repo.FullName, ev.Issue.Number}
		history[ref] = append(history[ref], labelEvent{d.ID, d.Action, ev.Label.Name, ev.Sender.Login})
	}
	problem := func(counter *int, format string, args ...any) {
		*counter++
		if len(rep.Problems) < 20 {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		}
	}
	for _, is := range l.issues {
		name := fmt.Sprintf("%s#%d", is.repo, is.number)
		markers := map[string]int{}
		for _, c := range l.fake.Comments(is.repo, is.number) {
			if c.User == bot {
				for _, m := range markerRE.FindAllString(c.Body, -1) {
					markers[m]++
				}
			}
		}
		welcomed := false
		for m, n := range markers {
			welcomed = welcomed || strings.Contains(m, "welcome")
			if n > 1 {
				problem(&rep.Duplicated, "%s: bot comment %s posted %d times", name, m, n)
			}
		}
		if !welcomed {
			problem(&rep.Lost, "%s: no welcome comment", name)
		}
		present := map[string]bool{}
		added, undone := false, false
		triaged, wasTriaged := l.triagedAt[is]
		for _, e := range history[is] {
			switch {
			case e.action == "unlabeled":
				present[e.label] = false
			case e.sender == bot && present[e.label]:
				problem(&rep.Duplicated, "%s: label %q added twice", name, e.label)
			case e.sender == bot && e.label == "needs-triage" && wasTriaged && e.id > triaged && added:
				problem(&rep.Undone, "%s: needs-triage added again after a maintainer triaged it", name)
				present[e.label], undone = true, true
			default:
				present[e.label] = true
				added = added || (e.sender == bot && e.label == "needs-triage")
			}
		}
		if !added && !wasTriaged { // a triage handled before the opened event makes it moot
			problem(&rep.Lost, "%s: needs-triage never added", name)
		}
		final, _ := l.fake.Issue(is.repo, is.number)
		if wasTriaged && !undone && slices.Contains(final.Labels, "needs-triage") {
			problem(&rep.Lost, "%s: still needs-triage after a maintainer triaged it", name)
		}
	}
}
