package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// Executor carries out the rules' actions on GitHub (or only records them, in dry-run).
type Executor interface {
	Execute(ctx context.Context, t rules.Target, actions []rules.Action) ([]rules.Result, error)
}

// ConfigSource gives a repository's effective configuration.
type ConfigSource interface {
	Config(ctx context.Context, t rules.Target) (rules.Config, error)
}

// Store keeps the bot's memory and audit trail (the queue's JetStream buckets and streams).
type Store interface {
	LoadMemory(ctx context.Context, key string, v any) (uint64, error)
	StoreMemory(ctx context.Context, key string, v any, revision uint64) error
	Audit(ctx context.Context, repoID int64, number int, record any) error
	// AuditTrail is the issue's audit records (AuditRecord as JSON), oldest first, at most
	// limit of the newest: /why reads it.
	AuditTrail(ctx context.Context, repoID int64, number int, limit int) ([]json.RawMessage, error)
}

// Installer prepares a repository the App was just installed on (creates the labels the
// configuration names).
type Installer interface {
	// It returns the labels it created, for the audit trail.
	Installed(ctx context.Context, installationID int64, owner, repo string) ([]string, error)
}

// ConfigWatcher learns of pushes to a repository's default branch, so that a changed
// configuration file is read again (and the labels it names exist).
type ConfigWatcher interface {
	// It returns the labels it created, for the audit trail.
	Pushed(ctx context.Context, installationID int64, owner, repo string, paths []string) ([]string, error)
}

// StaticConfig is a ConfigSource that gives every repository the same configuration: the
// server defaults, when the bot cannot read repositories (dry-run without App credentials).
type StaticConfig rules.Config

// Config implements ConfigSource.
func (c StaticConfig) Config(context.Context, rules.Target) (rules.Config, error) {
	return rules.Config(c), nil
}

// WorkerConfig holds what a Worker needs; Executor, Config and Store are required.
type WorkerConfig struct {
	Executor Executor
	Config   ConfigSource
	Store    Store
	Logger   *zap.Logger
	// BotLogin is the App's bot user ("name[bot]"): events it caused are skipped, so the bot
	// never reacts to itself. Empty when unknown (dry-run).
	BotLogin string
	// BotLoginFunc, when set, gives the bot's login (asked of GitHub once, then cached by it).
	BotLoginFunc func(ctx context.Context) (string, error)
	// Lookup gives the rules read access to GitHub for one event; nil: payload only.
	Lookup func(t rules.Target) rules.Lookup
	// Installer and ConfigWatcher are optional.
	Installer     Installer
	ConfigWatcher ConfigWatcher
	// Backfill, when set, walks a newly installed repository's open issues once (after the
	// Installer): Backfiller.Backfill.
	Backfill func(ctx context.Context, t rules.Target, since time.Time) (BackfillProgress, error)
	// LifecycleWalk, when set, schedules the lifecycle's idle timers of a repository's open
	// issues once its lifecycle is on (after the backfill, and after a push that changed the
	// configuration): Backfiller.LifecycleWalk.
	LifecycleWalk func(ctx context.Context, t rules.Target) (BackfillProgress, error)
	// Repositories, when set, lists an installation's repositories: a change of the
	// organisation's defaults (owner/.github) reaches each of them.
	Repositories RepositoryLister
	// Forgetter, optional, deletes what the bot keeps about repositories it is uninstalled from.
	Forgetter Forgetter
	// Units, when set, takes the installation's repositories as one queued unit each
	// (EventInstallRepository) instead of preparing them all within the installation's event.
	Units UnitQueue
	// Notifier takes the notifications the rules' notify actions ask for; nil: no channels
	// are configured, and routes naming any are skipped.
	Notifier Notifier
	// Untriaged schedules the untriaged check of an issue the bot saw open; nil: none.
	Untriaged UntriagedScheduler
	// Now is the clock for audit records (default time.Now).
	Now func() time.Time
	// Grants, when set, tells whether an installation granted Pull requests (write): without
	// it, its pull request conversations are skipped (see pulls.go); nil: never skipped.
	Grants Grants
}

// Worker handles one stored event at a time: decode, skip its own, decide, act, remember.
type Worker struct {
	cfg      WorkerConfig
	installs *installations
	walks    sync.Map // repository id → its lifecycle walk was queued by this process
	prNotes  skipNotes
}

// NewWorker checks cfg and returns a Worker.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	switch {
	case cfg.Executor == nil:
		return nil, errors.New("worker: no executor")
	case cfg.Config == nil:
		return nil, errors.New("worker: no configuration source")
	case cfg.Store == nil:
		return nil, errors.New("worker: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Worker{cfg: cfg, installs: &installations{store: cfg.Store}}, nil
}

// AuditRecord is one entry of an issue's audit trail: an action, and what became of it.
type AuditRecord struct {
	Time       time.Time    `json:"time"`
	DeliveryID string       `json:"delivery_id"`
	Event      string       `json:"event"`
	Repo       string       `json:"repo"`
	Number     int          `json:"number"`
	Result     rules.Result `json:"result"`

	msgID string // dedup key of the record in the audit stream: a retried event stores it once
}

// AuditID is the record's dedup key: the delivery, the record's place among the event's
// records and what it says (a retried attempt whose action failed before is a new record).
func (r AuditRecord) AuditID() string { return r.msgID }

// withAuditID sets the record's dedup key from its delivery, index and result.
func (r AuditRecord) withAuditID(index int) AuditRecord {
	data, _ := json.Marshal(r.Result)
	sum := sha256.Sum256(data)
	r.msgID = fmt.Sprintf("audit-%s-%d-%s", r.DeliveryID, index, hex.EncodeToString(sum[:8]))
	return r
}

// Handle is the queue.Handler of the worker.
func (w *Worker) Handle(ctx context.Context, m queue.Message) error {
	switch m.Event {
	case EventInstallRepository:
		return w.handleUnit(ctx, m)
	case EventSyncRepository:
		return w.handleSyncUnit(ctx, m)
	}
	payload, err := ParsePayload(m.Event, m.Body)
	if err != nil {
		return queue.Permanent(fmt.Errorf("decode %s payload: %w", m.Event, err))
	}
	if err := complete(m.Event, payload); err != nil {
		return queue.Permanent(err)
	}
	t, action, sender := describe(m, payload)
	log := w.cfg.Logger.With(
		zap.String(LogKeyDeliveryID, m.DeliveryID),
		zap.String(LogKeyEvent, m.Event),
		zap.String(LogKeyAction, action),
		zap.Int64(LogKeyInstallationID, m.InstallationID),
		zap.String(LogKeyRepo, t.FullName()),
		zap.Int(LogKeyNumber, t.Number),
	)
	bot := w.cfg.BotLogin
	if w.cfg.BotLoginFunc != nil {
		if bot, err = w.cfg.BotLoginFunc(ctx); err != nil {
			return fmt.Errorf("the App's bot login: %w", err)
		}
	}
	// The bot's own comments still pass, to be remembered as the bot's (the rules take no action
	// on them): the github notification channel posts outside the rules, and its comments must
	// not count as people's towards a priority score.
	if bot != "" && strings.EqualFold(sender, bot) && m.Event != "issue_comment" {
		log.Info("event skipped: caused by the bot itself", zap.Int("attempt", m.Attempt))
		return nil
	}
	if err := w.housekeeping(ctx, m, payload); err != nil {
		return err
	}
	if skip, err := w.skipPullRequest(ctx, log, m, t, payload); skip || err != nil {
		return err
	}
	in := rules.Input{
		Event:    rules.Event{Name: m.Event, DeliveryID: m.DeliveryID, Payload: payload},
		BotLogin: bot,
	}
	if w.cfg.Lookup != nil && t.RepoID != 0 {
		in.Lookup = w.cfg.Lookup(t)
	}
	if t.RepoID != 0 && t.Number != 0 {
		in.History = w.history(t.RepoID, t.Number)
	}
	var issueRev uint64
	author := openedBy(m, payload)
	if t.RepoID != 0 {
		// The records are read at once: one round trip of waiting instead of two.
		issueErr, claimErr := make(chan error, 1), make(chan error, 1)
		if t.Number != 0 {
			go func() {
				var err error
				issueRev, err = w.cfg.Store.LoadMemory(ctx, queue.IssueKey(t.RepoID, t.Number), &in.Memory)
				issueErr <- err
			}()
		} else {
			issueErr <- nil
		}
		// The repository's memory is only read for an opened issue, whose author may be new:
		// the author's record, and without one the authors the repository's own record listed
		// before there were such records.
		var claim authorClaim
		if author != "" {
			go func() {
				_, err := w.cfg.Store.LoadMemory(ctx, queue.AuthorKey(t.RepoID, author), &claim)
				claimErr <- err
			}()
		} else {
			claimErr <- nil
		}
		if err := errors.Join(<-issueErr, <-claimErr); err != nil {
			return err
		}
		if author != "" && claim.FirstIssue == 0 {
			if _, err := w.cfg.Store.LoadMemory(ctx, queue.RepoKey(t.RepoID), &in.Repo); err != nil {
				return err
			}
		}
		in.Repo = claim.onto(in.Repo, author)
		if author != "" && (claim.FirstIssue == 0 || claim.FirstIssue == t.Number) && w.cfg.Lookup != nil && rules.MayWelcome(payload.(*github.IssuesEvent).GetIssue()) {
			// The author's first issue here, whom the conduct rule welcomes with the code of
			// conduct's link: its lookups go alongside the configuration's fetch instead of
			// after it, a round trip or two less on a new installation's first issues.
			defer prefetchConduct(ctx, w.cfg.Lookup(t))()
		}
	}
	cfg, err := w.cfg.Config.Config(ctx, t)
	if err != nil {
		return fmt.Errorf("configuration of %s: %w", t.FullName(), err)
	}
	in.Config = cfg
	out, err := w.evaluate(ctx, t, in, author)
	if err != nil {
		return err
	}
	results, execErr := w.cfg.Executor.Execute(ctx, t, out.Actions)
	// Notifications are enqueued even when an action failed: the retry enqueues them again
	// under the same IDs, which the queue drops.
	notifyErr := w.routeNotifications(ctx, log, m.DeliveryID, t, cfg, issueOf(payload), results)
	auditErr := w.audit(ctx, log, m, t, results)
	if refused, err := w.refusedOnPullRequest(ctx, log, m, t, payload, execErr); refused {
		return errors.Join(err, auditErr)
	}
	if execErr != nil {
		return fmt.Errorf("execute actions: %w", execErr)
	}
	if auditErr != nil {
		// JetStream did not take a record (a leader election): the event is retried, its
		// actions find their work done, and the records already stored are not stored twice.
		return fmt.Errorf("audit trail of %s#%d: %w", t.FullName(), t.Number, auditErr)
	}
	out.Memory = out.Memory.Posted(results)
	if notifyErr != nil {
		return notifyErr
	}
	if err := w.scheduleUntriaged(ctx, m, t, cfg, payload, out.Memory.OpenedAt); err != nil {
		return err
	}
	if err := w.scheduleLifecycle(ctx, m, t, cfg, in.Memory, out.Memory); err != nil {
		return err
	}
	if t.RepoID != 0 && t.Number != 0 && !reflect.DeepEqual(in.Memory, out.Memory) {
		if err := storeRebased(ctx, w.cfg.Store, log, queue.IssueKey(t.RepoID, t.Number), in.Memory, out.Memory, issueRev); err != nil {
			return err
		}
	}
	if err := w.transferred(ctx, m, action, out.Memory); err != nil {
		return err
	}
	w.lifecycleCatchUp(ctx, log, t, cfg)
	log.Info("event handled", zap.Int("actions", len(out.Actions)), zap.Int("attempt", m.Attempt))
	return nil
}

// evaluate runs the rules. An opened issue's author's first issue in the repository (whom the
// conduct rule then welcomes) is claimed before any action is taken, by creating the author's
// record (queue.AuthorKey): the events of a repository's issues run at the same time, and a
// newcomer who opened several issues at once was welcomed on each. The event that loses the
// claim reads the winner's and evaluates again; nothing has been done yet, so nothing is done
// twice.
func (w *Worker) evaluate(ctx context.Context, t rules.Target, in rules.Input, author string) (rules.Outcome, error) {
	for attempt := 0; ; attempt++ {
		out, err := rules.Evaluate(ctx, in)
		if err != nil {
			return rules.Outcome{}, fmt.Errorf("evaluate rules: %w", err)
		}
		first, claims := out.Repo.FirstIssues[author]
		if _, claimed := in.Repo.FirstIssues[author]; t.RepoID == 0 || author == "" || !claims || claimed {
			return out, nil
		}
		key := queue.AuthorKey(t.RepoID, author)
		err = w.cfg.Store.StoreMemory(ctx, key, authorClaim{FirstIssue: first}, 0)
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, queue.ErrConflict) {
			return rules.Outcome{}, err
		}
		// Claimed meanwhile (a record is created once; only forgetting the repository deletes
		// it, so this ends).
		if attempt+1 >= memoryAttempts {
			return rules.Outcome{}, fmt.Errorf("store memory %s: still changing after %d attempts: %w", key, memoryAttempts, err)
		}
		var claim authorClaim
		if _, err := w.cfg.Store.LoadMemory(ctx, key, &claim); err != nil {
			return rules.Outcome{}, err
		}
		in.Repo = claim.onto(in.Repo, author)
	}
}

// authorClaim is the record of an author in a repository (queue.AuthorKey).
type authorClaim struct {
	FirstIssue int `json:"first_issue"` // the issue the bot saw them open first there
}

// onto gives the repository's memory as the rules read it: the author is known, with their
// first issue, once claimed (FirstIssue 0: not claimed).
func (c authorClaim) onto(r rules.RepoMemory, author string) rules.RepoMemory {
	if c.FirstIssue == 0 || author == "" {
		return r
	}
	out := rules.RepoMemory{Authors: append(slices.Clone(r.Authors), author), FirstIssues: maps.Clone(r.FirstIssues)}
	if out.FirstIssues == nil {
		out.FirstIssues = map[string]int{}
	}
	out.FirstIssues[author] = c.FirstIssue
	return out
}

// prefetchConduct looks up the code of conduct in the background, its answer left in the
// lookups' shared cache (ghapp.Lookups), where the rule's own lookup of the event finds it or
// joins the fetch under way. The returned func stops waiting for it: the fetch itself goes on
// for the cache.
func prefetchConduct(ctx context.Context, lookup rules.Lookup) (stop func()) {
	return Background(ctx, func(ctx context.Context) {
		_, _ = lookup.CodeOfConductURL(ctx) // an error is the rule's to meet, and report
	})
}

// Background runs f in a goroutine; the returned func cancels f's context and waits for f.
func Background(ctx context.Context, f func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(ctx)
	}()
	return func() { cancel(); <-done }
}

// openedBy is the author (lower case) of the issue an issues.opened event opened, else "".
func openedBy(m queue.Message, payload any) string {
	if ev, ok := payload.(*github.IssuesEvent); ok && m.Event == "issues" && ev.GetAction() == "opened" {
		return strings.ToLower(ev.GetIssue().GetUser().GetLogin())
	}
	return ""
}

// BatchAuditor appends several audit records of an issue at once, waiting for them together
// rather than one after the other; *queue.Queue implements it. A Store that does is used so.
type BatchAuditor interface {
	AuditBatch(ctx context.Context, repoID int64, number int, records []any) error
}

// audit logs and records what became of each action. Each record carries its dedup ID, so an
// event retried after a failed write (a leader election) does not store a record twice.
func (w *Worker) audit(ctx context.Context, log *zap.Logger, m queue.Message, t rules.Target, results []rules.Result) error {
	records := make([]any, 0, len(results))
	for i, r := range results {
		log.Info("action", zap.String(LogKeyRule, r.Action.Rule), zap.String("type", string(r.Action.Type)),
			zap.String("status", string(r.Status)), zap.String("reason", r.Action.Reason), zap.String("detail", r.Detail))
		rec := AuditRecord{Time: w.cfg.Now().UTC(), DeliveryID: m.DeliveryID, Event: m.Event, Repo: t.FullName(), Number: t.Number, Result: r}
		records = append(records, rec.withAuditID(i))
	}
	return storeAudit(ctx, w.cfg.Store, t.RepoID, t.Number, records)
}

// storeAudit appends an issue's audit records, in one batch where the store can.
func storeAudit(ctx context.Context, store Store, repoID int64, number int, records []any) error {
	if b, ok := store.(BatchAuditor); ok && len(records) > 1 {
		return b.AuditBatch(ctx, repoID, number, records)
	}
	var errs []error
	for _, rec := range records {
		if err := store.Audit(ctx, repoID, number, rec); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// storeRebased stores what this event changed in a memory record (from before to after, read at
// rev). Others change the record concurrently: the backfill walk and the lifecycle checks an
// issue's. On a conflict the changes are rebased on the newer record and stored again, and not
// at all when the newer record has them already. The event's actions are done by now, so a
// record that keeps changing never makes the event run again (its actions would be posted
// again): what it learnt is dropped with a warning instead.
func storeRebased[M interface{ Rebase(before, current M) M }](ctx context.Context, store Store, log *zap.Logger, key string, before, after M, rev uint64) error {
	current := before
	for attempt := range memoryAttempts {
		next := after.Rebase(before, current)
		if attempt > 0 && reflect.DeepEqual(next, current) {
			return nil
		}
		err := store.StoreMemory(ctx, key, next, rev)
		if !errors.Is(err, queue.ErrConflict) {
			return err
		}
		// Writers that collided would collide again in step: spread them out.
		select {
		case <-time.After(time.Duration(rand.Int64N(int64(attempt+1) * int64(time.Millisecond)))):
		case <-ctx.Done():
			return ctx.Err()
		}
		var zero M
		current = zero
		if rev, err = store.LoadMemory(ctx, key, &current); err != nil {
			return err
		}
	}
	log.Warn("memory still changing: what this event added to it is dropped, its actions stand",
		zap.String("key", key), zap.Int("attempts", memoryAttempts))
	return nil
}

// updateMemory loads the record at key, lets change edit it (false: nothing to write), and
// stores it unless it changed meanwhile, then tries again, at most memoryAttempts times. It
// reports whether it wrote; a record that keeps changing is an error wrapping
// queue.ErrConflict.
func updateMemory[M any](ctx context.Context, store Store, key string, change func(cur *M, rev uint64) bool) (bool, error) {
	for range memoryAttempts {
		var cur M
		rev, err := store.LoadMemory(ctx, key, &cur)
		if err != nil {
			return false, err
		}
		if !change(&cur, rev) {
			return false, nil
		}
		if err := store.StoreMemory(ctx, key, cur, rev); !errors.Is(err, queue.ErrConflict) {
			return err == nil, err
		}
	}
	return false, fmt.Errorf("store memory %s: still changing after %d attempts: %w", key, memoryAttempts, queue.ErrConflict)
}

// memoryAttempts bounds the writes of one event's changes to a memory record.
const memoryAttempts = 20

// housekeeping is the work of events that concern the installation, not an issue: labels for
// new repositories, and a fresh configuration after a push that changed it.
func (w *Worker) housekeeping(ctx context.Context, m queue.Message, payload any) error {
	if err := w.uninstalled(ctx, payload); err != nil {
		return err
	}
	var install []*github.Repository
	var installationID int64
	var since time.Time // when the App got the repositories: their issues opened since come as events
	audit := func(repoID int64, full, rule, reason string, created []string) error {
		return w.auditLabels(ctx, m, repoID, full, rule, reason, created)
	}
	switch ev := payload.(type) {
	case *github.InstallationEvent:
		w.permissionsAccepted(ev)
		if a := ev.GetAction(); a == "created" || a == "new_permissions_accepted" || a == "unsuspend" {
			install, installationID = ev.Repositories, ev.GetInstallation().GetID()
			if a == "created" {
				since = ev.GetInstallation().GetCreatedAt().Time
			}
		}
	case *github.InstallationRepositoriesEvent:
		if ev.GetAction() == "added" {
			install, installationID, since = ev.RepositoriesAdded, ev.GetInstallation().GetID(), m.Stored
		}
	case *github.PushEvent:
		if w.cfg.ConfigWatcher == nil {
			return nil
		}
		r := ev.GetRepo()
		if ev.GetRef() != "refs/heads/"+r.GetDefaultBranch() || ev.GetDeleted() {
			return nil
		}
		var paths []string
		for _, c := range ev.Commits {
			if c == nil { // not GitHub's, but no reason to crash
				continue
			}
			paths = append(paths, c.Added...)
			paths = append(paths, c.Modified...)
			paths = append(paths, c.Removed...)
		}
		// GitHub lists at most 20 commits in a push payload: a longer push may hide the file.
		if len(ev.Commits) >= 20 {
			paths = append(paths, PushTruncated)
		}
		owner := r.GetOwner().GetLogin()
		if owner == "" {
			owner = r.GetOwner().GetName()
		}
		created, err := w.cfg.ConfigWatcher.Pushed(ctx, ev.GetInstallation().GetID(), owner, r.GetName(), paths)
		if aerr := audit(r.GetID(), owner+"/"+r.GetName(), RuleConfiguration, "a push changed the configuration, which names these labels", created); aerr != nil && err == nil {
			err = aerr
		}
		if err != nil {
			return fmt.Errorf("configuration of %s/%s after a push: %w", owner, r.GetName(), err)
		}
		return w.configPushed(ctx, m, ev.GetInstallation().GetID(), r.GetID(), owner, r.GetName(), paths)
	}
	if w.cfg.Installer == nil {
		return nil
	}
	return w.installRepositories(ctx, m, installationID, install, since)
}

// auditLabels records in the repository's trail the labels the bot created in it.
func (w *Worker) auditLabels(ctx context.Context, m queue.Message, repoID int64, full, rule, reason string, created []string) error {
	if len(created) == 0 {
		return nil
	}
	rec := AuditRecord{Time: w.cfg.Now().UTC(), DeliveryID: m.DeliveryID, Event: m.Event, Repo: full, Result: rules.Result{
		Action: rules.Action{Rule: rule, Type: AuditCreateLabel, Repo: full, Labels: created, Reason: reason}, Status: rules.StatusDone}}
	if err := w.cfg.Store.Audit(ctx, repoID, 0, rec.withAuditID(0)); err != nil {
		return fmt.Errorf("audit trail of %s: %w", full, err)
	}
	return nil
}

// PushTruncated is passed as a path when GitHub left commits out of a push payload: the
// configuration file may have changed in one of them.
const PushTruncated = "*"

// complete checks that a payload has the objects every event of its kind carries: GitHub always
// sends them, so a payload without them is not GitHub's and retrying cannot help.
func complete(event string, payload any) error {
	var missing string
	switch ev := payload.(type) {
	case *github.IssuesEvent:
		if ev.Issue == nil {
			missing = "issue"
		}
	case *github.IssueCommentEvent:
		switch {
		case ev.Issue == nil:
			missing = "issue"
		case ev.Comment == nil:
			missing = "comment"
		}
	}
	if missing != "" {
		return fmt.Errorf("%s payload has no %s", event, missing)
	}
	return nil
}

// describe finds the target of an event, its action and who caused it.
func describe(m queue.Message, payload any) (t rules.Target, action, sender string) {
	t = rules.Target{DeliveryID: m.DeliveryID, Event: m.Event, InstallationID: m.InstallationID, RepoID: m.RepoID, Number: m.Number}
	var repo *github.Repository
	switch ev := payload.(type) {
	case *github.IssuesEvent:
		repo, action, sender = ev.GetRepo(), ev.GetAction(), ev.GetSender().GetLogin()
	case *github.IssueCommentEvent:
		repo, action, sender = ev.GetRepo(), ev.GetAction(), ev.GetSender().GetLogin()
	case *github.InstallationEvent:
		action, sender = ev.GetAction(), ev.GetSender().GetLogin()
	case *github.InstallationRepositoriesEvent:
		action, sender = ev.GetAction(), ev.GetSender().GetLogin()
	case *github.PushEvent:
		r := ev.GetRepo()
		t.Owner, t.Name, t.Private, sender = r.GetOwner().GetLogin(), r.GetName(), r.GetPrivate(), ev.GetSender().GetLogin()
		if t.Owner == "" {
			t.Owner = r.GetOwner().GetName()
		}
		if t.RepoID == 0 {
			t.RepoID = r.GetID()
		}
	}
	if repo != nil {
		t.Owner, t.Name, t.Private = repo.GetOwner().GetLogin(), repo.GetName(), repo.GetPrivate()
		if t.RepoID == 0 {
			t.RepoID = repo.GetID()
		}
	}
	return t, action, sender
}
