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
	// Lifecycle: the walk scheduled the lifecycle's idle timer of each issue it looked at.
	Lifecycle bool
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
	// Timers, when set, takes the lifecycle's idle timers of the issues walked while the
	// repository's lifecycle is on (Backfill, LifecycleWalk); nil: none are scheduled.
	Timers UntriagedScheduler
	// Now is the clock of the checkpoints (default time.Now).
	Now func() time.Time
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
	// Lifecycle: every page scheduled its issues' lifecycle timers.
	Lifecycle bool `json:"lifecycle,omitempty"`
}

// backfillKey is the memory key of a repository's backfill (names may hold any of . - _).
func backfillKey(t rules.Target) string {
	return "backfill." + hex.EncodeToString([]byte(strings.ToLower(t.FullName())))
}

// lifecycleWalkKey is the memory key of a repository's lifecycle walk.
func lifecycleWalkKey(t rules.Target) string {
	return "lifecycle-walk." + hex.EncodeToString([]byte(strings.ToLower(t.FullName())))
}

// WalkKeys are the memory keys of repo's walks (owner/name, any case), which forgetting the
// repository deletes: installed again, it is walked again.
func WalkKeys(repo string) []string {
	owner, name, _ := strings.Cut(repo, "/")
	t := rules.Target{Owner: owner, Name: name}
	return []string{backfillKey(t), lifecycleWalkKey(t)}
}

// Backfill walks t's open issues (InstallationID, Owner and Name set) unless it was done: those
// opened before since (zero: before the walk starts), as the issues opened since come to the bot
// as events of their own; walking them too would race their events and write twice. When
// the repository's lifecycle is on and Timers is set, it also schedules each issue's idle timer
// (as LifecycleWalk does), so that a later LifecycleWalk has nothing left to do.
func (b *Backfiller) Backfill(ctx context.Context, t rules.Target, since time.Time) (BackfillProgress, error) {
	prog := BackfillProgress{Repo: t.FullName()}
	cfg, err := b.Config.Config(ctx, t)
	if err != nil {
		return prog, fmt.Errorf("configuration of %s: %w", t.FullName(), err)
	}
	if !cfg.Backfill {
		prog.Done, prog.Disabled = true, true
		return prog, nil
	}
	repo := &github.Repository{FullName: github.String(t.FullName()), Name: github.String(t.Name), Owner: &github.User{Login: github.String(t.Owner)}}
	lifecycle := b.Timers != nil && cfg.Lifecycle.Enabled && t.RepoID != 0
	prog, err = b.walk(ctx, t, backfillKey(t), lifecycle, since, func(is *github.Issue) (bool, error) {
		changed, err := b.issue(ctx, cfg, t, repo, is)
		if err != nil || !lifecycle {
			return changed, err
		}
		_, err = b.scheduleIdle(ctx, cfg, t, is)
		return changed, err
	})
	if err != nil || !prog.Done || prog.Earlier || !prog.Lifecycle {
		return prog, err
	}
	// Every page scheduled its issues' idle timers: the lifecycle walk is done with it.
	if err := b.markDone(ctx, lifecycleWalkKey(t), prog); err != nil {
		return prog, err
	}
	return prog, nil
}

// LifecycleWalk schedules the lifecycle's idle timer of each of t's open issues once per
// repository, when its lifecycle is on (issue 12 §2: the timers of issues older than the
// installation, or older than the day the lifecycle was turned on): the issue's last update on
// GitHub is taken as its last activity. The backfill does it on its way when the lifecycle is on
// then; this walk covers a repository whose lifecycle was turned on later, or whose backfill is
// off. Resumable and done once, like the backfill (its own checkpoint). Whether an issue may go
// stale is decided when its timer is due, by rules.LifecycleCheck (untriaged, assigned, frozen…
// issues never do).
func (b *Backfiller) LifecycleWalk(ctx context.Context, t rules.Target) (BackfillProgress, error) {
	prog := BackfillProgress{Repo: t.FullName()}
	cfg, err := b.Config.Config(ctx, t)
	if err != nil {
		return prog, fmt.Errorf("configuration of %s: %w", t.FullName(), err)
	}
	if b.Timers == nil || !cfg.Lifecycle.Enabled || t.RepoID == 0 {
		prog.Done, prog.Disabled = true, true
		return prog, nil
	}
	return b.walk(ctx, t, lifecycleWalkKey(t), true, time.Time{}, func(is *github.Issue) (bool, error) {
		return b.scheduleIdle(ctx, cfg, t, is)
	})
}

// walk applies each to t's open issues (oldest first) from the checkpoint under key, one
// checkpoint per page; true from each counts the issue as changed and paces the walk.
// lifecycle says whether each schedules idle timers (remembered in the checkpoint).
func (b *Backfiller) walk(ctx context.Context, t rules.Target, key string, lifecycle bool, since time.Time, each func(*github.Issue) (bool, error)) (BackfillProgress, error) {
	log := b.log().With(zap.String(LogKeyRepo, t.FullName()), zap.Int64(LogKeyInstallationID, t.InstallationID))
	prog := BackfillProgress{Repo: t.FullName()}
	var cp backfillCheckpoint
	rev, err := b.Store.LoadMemory(ctx, key, &cp)
	if err != nil {
		return prog, err
	}
	if cp.Done {
		return BackfillProgress{Repo: t.FullName(), Pages: cp.Pages, Issues: cp.Issues, Changed: cp.Changed, Done: true, Earlier: true,
			Lifecycle: cp.Lifecycle}, nil
	}
	if cp.Started.IsZero() {
		cp.Started, cp.Lifecycle = b.now().UTC(), lifecycle
		if !since.IsZero() && since.Before(cp.Started) {
			cp.Started = since.UTC()
		}
	}
	cp.Lifecycle = cp.Lifecycle && lifecycle // resumed without it: some pages lack the timers
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
			changed, err := each(is)
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
		cp.Next, cp.Pages, cp.Issues, cp.Done, cp.At = next, cp.Pages+1, cp.Issues+len(issues), next == 0, b.now().UTC()
		if err := b.Store.StoreMemory(ctx, key, cp, rev); err != nil {
			return prog, fmt.Errorf("walk checkpoint %s of %s: %w", key, t.FullName(), err)
		}
		if rev, err = b.Store.LoadMemory(ctx, key, &backfillCheckpoint{}); err != nil {
			return prog, err
		}
		prog.Pages, prog.Issues, prog.Changed, prog.Done, prog.Lifecycle = cp.Pages, cp.Issues, cp.Changed, cp.Done, cp.Lifecycle
		if b.Progress != nil {
			b.Progress(prog)
		}
	}
	log.Info("walk of the open issues done", zap.String("walk", strings.SplitN(key, ".", 2)[0]), zap.Int("issues", cp.Issues), zap.Int("changed", cp.Changed))
	return prog, nil
}

// markDone stores a finished checkpoint under key (unless one is there).
func (b *Backfiller) markDone(ctx context.Context, key string, prog BackfillProgress) error {
	var cp backfillCheckpoint
	rev, err := b.Store.LoadMemory(ctx, key, &cp)
	if err != nil || cp.Done {
		return err
	}
	now := b.now().UTC()
	cp = backfillCheckpoint{Pages: prog.Pages, Issues: prog.Issues, Changed: prog.Changed, Done: true, At: now, Started: now, Lifecycle: true}
	if err := b.Store.StoreMemory(ctx, key, cp, rev); err != nil && !errors.Is(err, queue.ErrConflict) {
		return fmt.Errorf("walk checkpoint %s: %w", key, err)
	}
	return nil // on a conflict the lifecycle walk is under way itself
}

// scheduleIdle schedules the lifecycle's idle timer of an open issue the bot knows no newer
// activity of, from the issue's last update on GitHub, and remembers that activity, as the
// timer's check requires. True if it scheduled one.
func (b *Backfiller) scheduleIdle(ctx context.Context, cfg rules.Config, t rules.Target, is *github.Issue) (bool, error) {
	if is.IsPullRequest() || is.GetState() != "open" {
		return false, nil
	}
	at := is.GetUpdatedAt().Time
	if at.IsZero() {
		at = is.GetCreatedAt().Time
	}
	if at.IsZero() {
		return false, nil
	}
	at = at.UTC()
	t.Number = is.GetNumber()
	key := queue.IssueKey(t.RepoID, t.Number)
	// An event of the issue handled meanwhile makes it look again.
	wrote, err := updateMemory(ctx, b.Store, key, func(mem *rules.Memory, _ uint64) bool {
		if !at.After(mem.LastActivity) {
			return false // the bot saw this activity or a later one: its timer stands
		}
		mem.LastActivity = at
		return true
	})
	if err != nil || !wrote {
		return false, err
	}
	c := UntriagedCheck{Kind: LifecycleKind, DeliveryID: fmt.Sprintf("walk-%d-%d", t.RepoID, t.Number), InstallationID: t.InstallationID,
		RepoID: t.RepoID, Repo: t.FullName(), Number: t.Number, Title: is.GetTitle(), URL: is.GetHTMLURL(),
		OpenedAt: at, DueAt: cfg.Lifecycle.FirstDue(at)}
	if err := b.Timers.Schedule(ctx, c); err != nil {
		return false, fmt.Errorf("schedule the lifecycle check of %s#%d: %w", t.FullName(), t.Number, err)
	}
	return true, nil
}

func (b *Backfiller) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
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
		rec := AuditRecord{Time: b.now().UTC(), Event: "backfill", Repo: t.FullName(), Number: t.Number, Result: r}
		if err := b.Store.Audit(ctx, t.RepoID, t.Number, rec); err != nil {
			b.log().Warn("audit record lost", zap.Error(err))
		}
	}
	if t.RepoID == 0 {
		return true, nil // no memory key without the repository's id
	}
	// An event of the issue handled meanwhile changed its memory: what the walk changed is put
	// on top, as an event's changes are.
	return true, storeRebased(ctx, b.Store, b.log(), key, mem, out.Memory.Posted(results), rev)
}

func (b *Backfiller) log() *zap.Logger {
	if b.Logger == nil {
		return zap.NewNop()
	}
	return b.Logger
}
