package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// Untriaged reports (issue 5): an issue still carrying the needs-triage label `after` it was
// opened is reported once per issue and channel. When the worker sees an issue open, it
// schedules a check: a message on a timers stream that a durable consumer holds back with
// NakWithDelay until the earliest route is due. The check then reads the configuration, the
// memory and the issue as they are by then, and enqueues notify.UntriagedNotification for each
// due route's channels (its ID, notify.UntriagedID, makes a second report a no-op).

// Names of the timers' stream and consumer. They do not overlap with the queue's or notify's.
const (
	TimersStream    = "TRIAGEBOT_TIMERS"
	TimersSubjects  = "triagebot.timers"
	UntriagedTimers = "untriaged"
)

// UntriagedCheck is one scheduled check of an issue the bot saw (re)open.
type UntriagedCheck struct {
	// Kind is the check's kind: "" the untriaged check, LifecycleKind the lifecycle's (whose
	// OpenedAt is the latest human activity). Both share this stream and consumer.
	Kind           string    `json:"kind,omitempty"`
	DeliveryID     string    `json:"delivery_id"` // of the opening event: retries schedule once
	InstallationID int64     `json:"installation_id"`
	RepoID         int64     `json:"repo_id"`
	Repo           string    `json:"repo"` // owner/name
	Number         int       `json:"number"`
	Title          string    `json:"title,omitempty"`
	URL            string    `json:"url,omitempty"`
	OpenedAt       time.Time `json:"opened_at"`
	DueAt          time.Time `json:"due_at"` // the earliest route's
}

// UntriagedScheduler schedules an UntriagedCheck; *Timers implements it.
type UntriagedScheduler interface {
	Schedule(ctx context.Context, c UntriagedCheck) error
}

// untriagedRoutes are cfg's untriaged routes with their parsed durations.
func untriagedRoutes(cfg rules.Config) (routes []rules.Route, afters []time.Duration) {
	if !cfg.NeedsTriage.Enabled {
		return nil, nil
	}
	for _, r := range cfg.Notifications.Routes {
		if r.On != rules.RouteUntriaged {
			continue
		}
		d, err := time.ParseDuration(r.After)
		if err != nil || d < 0 {
			continue // the configuration's validation names it
		}
		routes, afters = append(routes, r), append(afters, d)
	}
	return routes, afters
}

// scheduleUntriaged schedules the check of an issue that was just (re)opened, when a route
// asks for untriaged reports.
func (w *Worker) scheduleUntriaged(ctx context.Context, m queue.Message, t rules.Target, cfg rules.Config, payload any, openedAt time.Time) error {
	ev, ok := payload.(*github.IssuesEvent)
	if w.cfg.Untriaged == nil || !ok || ev.GetIssue() == nil || ev.GetIssue().IsPullRequest() || openedAt.IsZero() || t.RepoID == 0 || t.Number == 0 {
		return nil
	}
	if a := ev.GetAction(); a != "opened" && a != "reopened" {
		return nil
	}
	_, afters := untriagedRoutes(cfg)
	if len(afters) == 0 {
		return nil
	}
	first := afters[0]
	for _, d := range afters[1:] {
		first = min(first, d)
	}
	c := UntriagedCheck{
		DeliveryID: m.DeliveryID, InstallationID: t.InstallationID, RepoID: t.RepoID, Repo: t.FullName(), Number: t.Number,
		Title: ev.GetIssue().GetTitle(), URL: ev.GetIssue().GetHTMLURL(), OpenedAt: openedAt, DueAt: notify.DueAt(openedAt, first),
	}
	if err := w.cfg.Untriaged.Schedule(ctx, c); err != nil {
		return fmt.Errorf("schedule the untriaged check: %w", err)
	}
	return nil
}

// IssueState is what the untriaged check reads of an issue on GitHub.
type IssueState struct {
	Open   bool
	Labels []string
	Title  string
	URL    string
}

// IssueReader reads an issue's current state; the GitHub App implements it.
type IssueReader interface {
	IssueState(ctx context.Context, installationID int64, owner, repo string, number int) (IssueState, error)
}

// UntriagedChecker decides and enqueues the untriaged reports of one check.
type UntriagedChecker struct {
	Config   ConfigSource
	Store    Store
	Notifier Notifier
	// Issues reads the issue at the due time; nil (dry-run without credentials): the bot's
	// memory decides whether the issue is still untriaged.
	Issues IssueReader
	Logger *zap.Logger
	Now    func() time.Time
}

// Check reports c's issue on every due route's channels if it is still open and carries the
// needs-triage label, and returns when the next route becomes due (zero: none left).
func (u *UntriagedChecker) Check(ctx context.Context, c UntriagedCheck) (time.Time, error) {
	owner, name, _ := strings.Cut(c.Repo, "/")
	t := rules.Target{InstallationID: c.InstallationID, RepoID: c.RepoID, Owner: owner, Name: name, Number: c.Number}
	cfg, err := u.Config.Config(ctx, t)
	if err != nil {
		return time.Time{}, fmt.Errorf("configuration of %s: %w", c.Repo, err)
	}
	routes, afters := untriagedRoutes(cfg)
	if len(routes) == 0 {
		return time.Time{}, nil
	}
	var mem rules.Memory
	if _, err := u.Store.LoadMemory(ctx, queue.IssueKey(c.RepoID, c.Number), &mem); err != nil {
		return time.Time{}, err
	}
	if mem.Triaged || (!mem.OpenedAt.IsZero() && !mem.OpenedAt.Equal(c.OpenedAt)) {
		return time.Time{}, nil // triaged, or reopened since: the reopening scheduled its own check
	}
	now := u.Now()
	var next time.Time
	var state *IssueState
	var known map[string]notify.ChannelConfig
	if u.Notifier != nil {
		known = u.Notifier.Channels()
	}
	log := u.Logger.With(zap.String(LogKeyRepo, c.Repo), zap.Int(LogKeyNumber, c.Number))
	for i, r := range routes {
		if notify.DueAt(c.OpenedAt, afters[i]).Before(c.DueAt) {
			continue // reported by an earlier check of this issue
		}
		if !notify.Due(c.OpenedAt, afters[i], now) {
			if due := notify.DueAt(c.OpenedAt, afters[i]); next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		if state == nil {
			st, err := u.state(ctx, c, cfg, mem)
			if err != nil {
				return time.Time{}, err
			}
			state = &st
		}
		if !state.Open || !containsFold(state.Labels, cfg.NeedsTriage.Label) {
			return time.Time{}, nil
		}
		issue := notify.UntriagedIssue{Repo: c.Repo, RepoID: c.RepoID, Number: c.Number, Title: state.Title, URL: state.URL, OpenedAt: c.OpenedAt, Label: cfg.NeedsTriage.Label}
		var sent, missing []string
		for _, ch := range r.To {
			if _, ok := known[ch]; !ok {
				missing = appendNew(missing, ch)
				continue
			}
			enqueued, err := reportUntriaged(ctx, u.Store, u.Notifier, t, issue, ch, afters[i], now, known[ch])
			if err != nil {
				return time.Time{}, err
			}
			if enqueued {
				sent = appendNew(sent, ch)
			}
		}
		if len(missing) > 0 {
			log.Warn("notification routes name channels the server does not define (TRIAGEBOT_CONFIG channels); skipped",
				zap.Strings("channels", missing))
		}
		res := notifyResult(rules.Result{Action: rules.Action{Rule: rules.RuleNotify, Type: rules.Notify, Channel: rules.RouteUntriaged,
			Repo: c.Repo, Number: c.Number, Reason: fmt.Sprintf("still labelled %q %s after it was opened", issue.Label, r.After)}}, sent, missing, nil)
		rec := AuditRecord{Time: now.UTC(), DeliveryID: "untriaged-" + c.DeliveryID, Event: "timer", Repo: c.Repo, Number: c.Number, Result: res}
		if err := u.Store.Audit(ctx, c.RepoID, c.Number, rec.withAuditID(i)); err != nil {
			// Checked again: what was reported is recorded per issue and channel, not sent twice.
			return time.Time{}, fmt.Errorf("audit trail of %s#%d: %w", c.Repo, c.Number, err)
		}
	}
	return next, nil
}

func (u *UntriagedChecker) state(ctx context.Context, c UntriagedCheck, cfg rules.Config, mem rules.Memory) (IssueState, error) {
	if u.Issues != nil {
		owner, name, _ := strings.Cut(c.Repo, "/")
		st, err := u.Issues.IssueState(ctx, c.InstallationID, owner, name, c.Number)
		if err != nil {
			return IssueState{}, fmt.Errorf("read %s#%d: %w", c.Repo, c.Number, err)
		}
		return st, nil
	}
	// No GitHub to ask: the label the bot put on, unless a human took it off.
	st := IssueState{Open: true, Title: c.Title, URL: c.URL}
	if containsFold(mem.BotLabels, cfg.NeedsTriage.Label) && !containsFold(mem.HumanRemoved, cfg.NeedsTriage.Label) {
		st.Labels = []string{cfg.NeedsTriage.Label}
	}
	return st, nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// Timers is the timers stream and its untriaged consumer.
type Timers struct {
	js       jetstream.JetStream
	cons     jetstream.Consumer
	check    func(ctx context.Context, c UntriagedCheck) (time.Time, error)
	log      *zap.Logger
	now      func() time.Time
	maxHold  time.Duration
	kinds    map[string]func(ctx context.Context, c UntriagedCheck) (time.Time, error)
	it       jetstream.MessagesContext
	wg       sync.WaitGroup
	stopOnce sync.Once
	ctx      context.Context
	cancel   context.CancelFunc
}

// TimersConfig sizes the timers stream.
type TimersConfig struct {
	Replicas    int           // default 1
	DedupWindow time.Duration // default 2h
	Logger      *zap.Logger
	Now         func() time.Time // default time.Now
	// MaxHold is the longest a timer is held back before its due time is looked at again
	// (0: until it is due). The checks run on Now's time, so a clock that jumps (a test's) needs
	// it to be seen.
	MaxHold time.Duration
}

// SetupTimers creates or updates the timers stream and its durable consumer; idempotent.
func SetupTimers(ctx context.Context, js jetstream.JetStream, cfg TimersConfig) (*Timers, error) {
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.DedupWindow == 0 {
		cfg.DedupWindow = 2 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        TimersStream,
		Description: "scheduled checks (untriaged issues), held back by their consumer until due",
		Subjects:    []string{TimersSubjects + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Duplicates:  cfg.DedupWindow,
	}); err != nil {
		return nil, fmt.Errorf("create stream %s: %w", TimersStream, err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, TimersStream, jetstream.ConsumerConfig{
		Durable:       UntriagedTimers,
		Description:   "untriaged checks, delayed by NakWithDelay until due",
		FilterSubject: TimersSubjects + "." + UntriagedTimers + ".>",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       2 * time.Minute,
		// Every issue waiting for its due time is pending: many at once.
		MaxAckPending: 100000,
		MaxDeliver:    -1,
		Replicas:      cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", UntriagedTimers, err)
	}
	return &Timers{js: js, cons: cons, log: cfg.Logger, now: cfg.Now, maxHold: cfg.MaxHold}, nil
}

// Schedule implements UntriagedScheduler: a retried event schedules once (dedup by its
// delivery id).
func (t *Timers) Schedule(ctx context.Context, c UntriagedCheck) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	subject := fmt.Sprintf("%s.%s.%d.%d", TimersSubjects, UntriagedTimers, c.RepoID, c.Number)
	id := fmt.Sprintf("untriaged.%s.%d", c.DeliveryID, c.DueAt.UnixNano())
	if c.Kind != "" {
		subject += "." + c.Kind
		id = c.Kind + "." + id
	}
	_, err = t.js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: data},
		jetstream.WithMsgID(id), jetstream.WithExpectStream(TimersStream))
	return err
}

// Now is the timers' clock, which their checks should share.
func (t *Timers) Now() time.Time { return t.now() }

// Register runs check for the checks of another kind (Kind), on the same stream; call it before Start.
func (t *Timers) Register(kind string, check func(ctx context.Context, c UntriagedCheck) (time.Time, error)) {
	if t.kinds == nil {
		t.kinds = map[string]func(ctx context.Context, c UntriagedCheck) (time.Time, error){}
	}
	t.kinds[kind] = check
}

// Start runs check on each scheduled check when it is due, until Stop.
func (t *Timers) Start(check func(ctx context.Context, c UntriagedCheck) (time.Time, error)) error {
	it, err := t.cons.Messages()
	if err != nil {
		return fmt.Errorf("timers consumer: %w", err)
	}
	t.it, t.check = it, check
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.wg.Add(1)
	go t.loop()
	return nil
}

// Stop takes no new checks and waits for the one in progress.
func (t *Timers) Stop() {
	if t.it == nil {
		return
	}
	t.stopOnce.Do(func() {
		t.it.Stop()
		t.cancel()
	})
	t.wg.Wait()
}

func (t *Timers) loop() {
	defer t.wg.Done()
	for {
		msg, err := t.it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
			t.log.Warn("fetch timer", zap.Error(err))
			continue
		}
		t.handle(msg)
	}
}

func (t *Timers) handle(msg jetstream.Msg) {
	var c UntriagedCheck
	if err := json.Unmarshal(msg.Data(), &c); err != nil {
		t.log.Error("undecodable timer dropped", zap.Error(err))
		_ = msg.Term()
		return
	}
	if wait := c.DueAt.Sub(t.now()); wait > 0 {
		if t.maxHold > 0 {
			wait = min(wait, t.maxHold)
		}
		_ = msg.NakWithDelay(wait)
		return
	}
	check := t.check
	if c.Kind != "" {
		if check = t.kinds[c.Kind]; check == nil {
			t.log.Warn("timer of an unknown kind dropped", zap.String("kind", c.Kind), zap.String(LogKeyRepo, c.Repo), zap.Int(LogKeyNumber, c.Number))
			_ = msg.Term()
			return
		}
	}
	next, err := check(t.ctx, c)
	if err != nil && queue.IsPermanent(err) {
		// The issue is gone, or the App lost access: retrying cannot report it.
		t.log.Error("timer check dropped", zap.String("kind", kindName(c.Kind)), zap.String(LogKeyRepo, c.Repo), zap.Int(LogKeyNumber, c.Number), zap.Error(err))
		_ = msg.Term()
		return
	}
	if err != nil {
		attempt := 1
		if md, mdErr := msg.Metadata(); mdErr == nil {
			attempt = int(md.NumDelivered)
		}
		delay := queue.Backoff(attempt)
		if d, ok := queue.RetryAfter(err); ok {
			delay = d
		}
		t.log.Warn("timer check failed; retried", zap.String("kind", kindName(c.Kind)), zap.String(LogKeyRepo, c.Repo), zap.Int(LogKeyNumber, c.Number),
			zap.Duration("retry_in", delay), zap.Error(err))
		_ = msg.NakWithDelay(delay)
		return
	}
	if next.IsZero() {
		_ = msg.Ack()
		return
	}
	// A later route: a check of its own, then this one is done.
	c.DueAt = next
	if err := t.Schedule(t.ctx, c); err != nil {
		t.log.Warn("reschedule timer check; retried", zap.String("kind", kindName(c.Kind)), zap.String(LogKeyRepo, c.Repo), zap.Int(LogKeyNumber, c.Number), zap.Error(err))
		_ = msg.NakWithDelay(time.Minute)
		return
	}
	_ = msg.Ack()
}

// kindName names a timer's kind in the log.
func kindName(kind string) string {
	if kind == "" {
		return UntriagedTimers
	}
	return kind
}
