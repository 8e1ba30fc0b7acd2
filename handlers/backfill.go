package handlers

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// BackfillSource lists a repository's open issues for the backfill; the App implements it.
type BackfillSource interface {
	// OpenIssues is page (from 1) of the repository's open issues (pull requests may be among
	// them), oldest first, and the next page (0 after the last).
	OpenIssues(ctx context.Context, t rules.Target, page int) ([]*github.Issue, int, error)
}

// BackfillProgress is how far a repository's backfill got.
type BackfillProgress struct {
	Repo     string
	Pages    int // pages done
	Issues   int // open issues looked at
	Changed  int // issues the bot labelled
	Done     bool
	Disabled bool // backfill: false in the repository's configuration
	Earlier  bool // walked before: nothing was done now
}

// Backfiller walks a repository's open issues once, when the App is installed (or on
// `triagebot backfill`), and applies rules.Backfill to each: needs-triage and priority for
// the issues that were there before the bot, without comments or notifications. It keeps a
// checkpoint per page in the memory bucket, so a walk that stops (a restart, a crash) resumes
// where it was, and a finished one is not walked again.
type Backfiller struct {
	Source   BackfillSource
	Config   ConfigSource
	Store    Store
	Executor Executor
	Logger   *zap.Logger
	// Pace is a wait after each issue changed, on top of the executor's write pace (which keeps
	// every write within GitHub's limits); 0: none.
	Pace     time.Duration
	Progress func(BackfillProgress) // after each page
}

type backfillCheckpoint struct {
	Next    int       `json:"next"` // the next page to walk (0: the first)
	Pages   int       `json:"pages"`
	Issues  int       `json:"issues"`
	Changed int       `json:"changed"`
	Done    bool      `json:"done"`
	At      time.Time `json:"at"`
	// Started is when the walk began: issues opened since come to the bot as events, so the
	// walk (oldest first) ends at the first of them.
	Started time.Time `json:"started"`
}

// backfillKey is the memory key of a repository's backfill (names may hold any of . - _).
func backfillKey(t rules.Target) string {
	return "backfill." + hex.EncodeToString([]byte(strings.ToLower(t.FullName())))
}

// Backfill walks t's open issues (InstallationID, Owner and Name set) unless it was done.
func (b *Backfiller) Backfill(ctx context.Context, t rules.Target) (BackfillProgress, error) {
	log := b.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String(LogKeyRepo, t.FullName()), zap.Int64(LogKeyInstallationID, t.InstallationID))
	prog := BackfillProgress{Repo: t.FullName()}
	cfg, err := b.Config.Config(ctx, t)
	if err != nil {
		return prog, fmt.Errorf("configuration of %s: %w", t.FullName(), err)
	}
	if !cfg.Backfill {
		prog.Done, prog.Disabled = true, true
		return prog, nil
	}
	key := backfillKey(t)
	var cp backfillCheckpoint
	rev, err := b.Store.LoadMemory(ctx, key, &cp)
	if err != nil {
		return prog, err
	}
	if cp.Done {
		return BackfillProgress{Repo: t.FullName(), Pages: cp.Pages, Issues: cp.Issues, Changed: cp.Changed, Done: true, Earlier: true}, nil
	}
	repo := &github.Repository{FullName: github.String(t.FullName()), Name: github.String(t.Name), Owner: &github.User{Login: github.String(t.Owner)}}
	if cp.Started.IsZero() {
		cp.Started = time.Now().UTC()
	}
	for !cp.Done {
		page := max(cp.Next, 1)
		issues, next, err := b.Source.OpenIssues(ctx, t, page)
		if err != nil {
			return prog, fmt.Errorf("list open issues of %s (page %d): %w", t.FullName(), page, err)
		}
		for i, is := range issues {
			if is.GetCreatedAt().After(cp.Started) {
				issues, next = issues[:i], 0
				break
			}
			changed, err := b.issue(ctx, cfg, t, repo, is)
			if err != nil {
				return prog, err
			}
			if changed {
				cp.Changed++
				if b.Pace > 0 {
					if err := sleepCtx(ctx, b.Pace); err != nil {
						return prog, err
					}
				}
			}
		}
		cp.Next, cp.Pages, cp.Issues, cp.Done, cp.At = next, cp.Pages+1, cp.Issues+len(issues), next == 0, time.Now().UTC()
		if err := b.Store.StoreMemory(ctx, key, cp, rev); err != nil {
			return prog, fmt.Errorf("backfill checkpoint of %s: %w", t.FullName(), err)
		}
		if rev, err = b.Store.LoadMemory(ctx, key, &backfillCheckpoint{}); err != nil {
			return prog, err
		}
		prog.Pages, prog.Issues, prog.Changed, prog.Done = cp.Pages, cp.Issues, cp.Changed, cp.Done
		if b.Progress != nil {
			b.Progress(prog)
		}
	}
	prog.Pages, prog.Issues, prog.Changed, prog.Done = cp.Pages, cp.Issues, cp.Changed, true
	log.Info("backfill done", zap.Int("issues", cp.Issues), zap.Int("changed", cp.Changed))
	return prog, nil
}

// issue applies rules.Backfill to one issue and records what was done; true if it acted.
func (b *Backfiller) issue(ctx context.Context, cfg rules.Config, t rules.Target, repo *github.Repository, is *github.Issue) (bool, error) {
	t.Number, t.Event = is.GetNumber(), "backfill"
	key := queue.IssueKey(t.RepoID, t.Number)
	var mem rules.Memory
	rev, err := b.Store.LoadMemory(ctx, key, &mem)
	if err != nil {
		return false, err
	}
	out := rules.Backfill(cfg, repo, is, mem)
	if len(out.Actions) == 0 {
		return false, nil
	}
	results, err := b.Executor.Execute(ctx, t, out.Actions)
	if err != nil {
		return false, fmt.Errorf("backfill %s#%d: %w", t.FullName(), t.Number, err)
	}
	for _, r := range results {
		rec := AuditRecord{Time: time.Now().UTC(), Event: "backfill", Repo: t.FullName(), Number: t.Number, Result: r}
		if err := b.Store.Audit(ctx, t.RepoID, t.Number, rec); err != nil && b.Logger != nil {
			b.Logger.Warn("audit record lost", zap.Error(err))
		}
	}
	if t.RepoID == 0 {
		return true, nil // no memory key without the repository's id
	}
	mem = out.Memory.Posted(results)
	if err := b.Store.StoreMemory(ctx, key, mem, rev); err != nil && !errors.Is(err, queue.ErrConflict) {
		return true, err
	}
	// On a conflict an event of the issue was handled meanwhile: its memory stands, and the
	// labels are on the issue either way.
	return true, nil
}
