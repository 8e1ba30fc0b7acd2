package handlers

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// LifecycleKind is the Kind of the lifecycle's idle timers (issue 12 §2). They ride on the
// untriaged timers' stream and consumer: one timer per human activity of an issue, due when the
// issue could go stale; a timer whose activity is no longer the latest is dropped.
const LifecycleKind = "lifecycle"

// scheduleLifecycle schedules the idle timer of an issue whose latest human activity this event was.
func (w *Worker) scheduleLifecycle(ctx context.Context, m queue.Message, t rules.Target, cfg rules.Config, before, after rules.Memory) error {
	if w.cfg.Untriaged == nil || !cfg.Lifecycle.Enabled || t.RepoID == 0 || t.Number == 0 ||
		after.LastActivity.IsZero() || after.LastActivity.Equal(before.LastActivity) {
		return nil
	}
	c := UntriagedCheck{Kind: LifecycleKind, DeliveryID: m.DeliveryID, InstallationID: t.InstallationID, RepoID: t.RepoID,
		Repo: t.FullName(), Number: t.Number, OpenedAt: after.LastActivity, DueAt: cfg.Lifecycle.FirstDue(after.LastActivity)}
	if err := w.cfg.Untriaged.Schedule(ctx, c); err != nil {
		return fmt.Errorf("schedule the lifecycle check: %w", err)
	}
	return nil
}

// LifecycleReader reads what the lifecycle check needs of an issue; the GitHub App implements it.
type LifecycleReader interface {
	LifecycleIssue(ctx context.Context, installationID int64, owner, repo string, number int) (rules.LifecycleIssue, error)
}

// LifecycleChecker runs the lifecycle check of an issue when its idle timer is due: it reads the
// issue, asks rules.LifecycleCheck, acts, records and remembers.
type LifecycleChecker struct {
	Config   ConfigSource
	Store    Store
	Executor Executor
	// Issues reads the issue; nil (dry-run without credentials): the bot's memory stands in.
	Issues LifecycleReader
	Logger *zap.Logger
	Now    func() time.Time
}

// Check implements a Timers check of kind LifecycleKind.
func (l *LifecycleChecker) Check(ctx context.Context, c UntriagedCheck) (time.Time, error) {
	owner, name, _ := strings.Cut(c.Repo, "/")
	t := rules.Target{DeliveryID: "lifecycle-" + c.DeliveryID, Event: "timer", InstallationID: c.InstallationID, RepoID: c.RepoID,
		Owner: owner, Name: name, Number: c.Number}
	cfg, err := l.Config.Config(ctx, t)
	if err != nil {
		return time.Time{}, fmt.Errorf("configuration of %s: %w", c.Repo, err)
	}
	if !cfg.Lifecycle.Enabled {
		return time.Time{}, nil
	}
	key := queue.IssueKey(c.RepoID, c.Number)
	var mem rules.Memory
	rev, err := l.Store.LoadMemory(ctx, key, &mem)
	if err != nil {
		return time.Time{}, err
	}
	if !mem.LastActivity.Equal(c.OpenedAt) {
		return time.Time{}, nil // there was activity since: its own timer carries on
	}
	is := rules.LifecycleIssue{Repo: c.Repo, Number: c.Number, Open: true, Labels: mem.BotLabels}
	if l.Issues != nil {
		if is, err = l.Issues.LifecycleIssue(ctx, c.InstallationID, owner, name, c.Number); err != nil {
			return time.Time{}, fmt.Errorf("read %s#%d: %w", c.Repo, c.Number, err)
		}
	}
	now := l.Now()
	actions, out, next := rules.LifecycleCheck(cfg, mem, is, now)
	if len(actions) > 0 {
		results, execErr := l.Executor.Execute(ctx, t, actions)
		records := make([]any, len(results))
		for i, r := range results {
			rec := AuditRecord{Time: now.UTC(), DeliveryID: t.DeliveryID, Event: "timer", Repo: c.Repo, Number: c.Number, Result: r}
			records[i] = rec.withAuditID(i)
		}
		auditErr := storeAudit(ctx, l.Store, c.RepoID, c.Number, records)
		if execErr != nil {
			return time.Time{}, fmt.Errorf("lifecycle of %s#%d: %w", c.Repo, c.Number, execErr)
		}
		if auditErr != nil {
			// Checked again: the actions find their work done, and the records already stored
			// are not stored twice (their dedup IDs).
			return time.Time{}, fmt.Errorf("audit trail of %s#%d: %w", c.Repo, c.Number, auditErr)
		}
		out = out.Posted(results)
	}
	if reflect.DeepEqual(mem, out) {
		return next, nil
	}
	// An event of the issue may store its memory while the check acts (at least the bot's own
	// comment coming back): what the check did is applied on that memory, not done again.
	stored := out
	for range lifecycleStoreAttempts {
		err := l.Store.StoreMemory(ctx, key, stored, rev)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, queue.ErrConflict) {
			return time.Time{}, err
		}
		var current rules.Memory
		if rev, err = l.Store.LoadMemory(ctx, key, &current); err != nil {
			return time.Time{}, err
		}
		var undo []rules.Action
		stored, undo = rules.LifecycleRebase(cfg, mem, out, current)
		if len(undo) > 0 {
			for i := range undo {
				undo[i].Repo, undo[i].Number = c.Repo, c.Number
			}
			results, err := l.Executor.Execute(ctx, t, undo)
			if err != nil {
				return time.Time{}, fmt.Errorf("lifecycle of %s#%d: %w", c.Repo, c.Number, err)
			}
			for i, r := range results {
				rec := AuditRecord{Time: now.UTC(), DeliveryID: t.DeliveryID + "-undo", Event: "timer", Repo: c.Repo, Number: c.Number, Result: r}
				if err := l.Store.Audit(ctx, c.RepoID, c.Number, rec.withAuditID(i)); err != nil && l.Logger != nil {
					l.Logger.Warn("audit record lost", zap.Error(err))
				}
			}
		}
		if !current.LastActivity.Equal(c.OpenedAt) {
			next = time.Time{} // the activity's own timer carries on
		}
	}
	return time.Time{}, fmt.Errorf("memory of %s#%d keeps changing: %w", c.Repo, c.Number, queue.ErrConflict)
}

// lifecycleStoreAttempts bounds the writes of a lifecycle check's memory.
const lifecycleStoreAttempts = 10
