package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// DefaultSweepEvery is how often the untriaged sweep runs across all processes.
const DefaultSweepEvery = time.Hour

// UntriagedSource is what the sweep reads of GitHub; the App implements it.
type UntriagedSource interface {
	// Repositories are the repositories the App is installed on (InstallationID, RepoID,
	// Owner and Name set).
	Repositories(ctx context.Context) ([]rules.Target, error)
	// OpenIssuesWithLabel lists t's open issues (not pull requests) that carry label.
	OpenIssuesWithLabel(ctx context.Context, t rules.Target, label string) ([]notify.UntriagedIssue, error)
}

// Sweeper reports the untriaged issues no scheduled check covers: issues opened before the bot
// was installed, or before the repository had an untriaged route. Every Every, one process (a
// lease in the memory bucket decides which) lists each repository's open issues carrying the
// needs-triage label and reports the due ones once per issue and channel.
type Sweeper struct {
	Source   UntriagedSource
	Config   ConfigSource
	Store    Store
	Notifier Notifier
	Logger   *zap.Logger
	Now      func() time.Time
	Every    time.Duration // default DefaultSweepEvery

	loop periodic
}

// sweepLeaseKey is the memory key of the last sweep's time: the process that moves it sweeps.
const sweepLeaseKey = "sweep.untriaged"

func (s *Sweeper) lease() lease {
	return lease{store: s.Store, key: sweepLeaseKey, every: s.Every, now: s.Now}
}

// reportedKey is the memory key that records an issue's untriaged report on a channel, so that
// the sweep does not report it again once the notification queue has forgotten its ID.
func reportedKey(repoID int64, number int, channel string) string {
	return fmt.Sprintf("untriaged.%d.%d.%s", repoID, number, channelToken(channel))
}

// channelToken keeps a channel name one KV token ('.' separates tokens).
func channelToken(ch string) string {
	out := []byte(ch)
	for i, c := range out {
		if c == '.' {
			out[i] = '_'
		}
	}
	return string(out)
}

func (s *Sweeper) defaults() {
	if s.Every <= 0 {
		s.Every = DefaultSweepEvery
	}
	if s.Logger == nil {
		s.Logger = zap.NewNop()
	}
	if s.Now == nil {
		s.Now = time.Now
	}
}

// Start sweeps every Every until Stop. The schedule is kept in the lease, so restarts (and
// other processes) neither skip nor repeat sweeps; a new deployment sweeps first one interval
// after it starts.
func (s *Sweeper) Start() {
	s.defaults()
	s.loop.start(s.Logger, "untriaged sweep", s.lease().untilNext, s.Sweep)
}

// Stop ends the sweeps, interrupting one in progress, and waits.
func (s *Sweeper) Stop() { s.loop.halt() }

// Sweep runs one sweep unless another process swept within Every.
func (s *Sweeper) Sweep(ctx context.Context) error {
	s.defaults()
	now := s.Now()
	if ok, err := s.lease().claim(ctx, s.Every); err != nil || !ok {
		return err
	}
	repos, err := s.Source.Repositories(ctx)
	if err != nil {
		return fmt.Errorf("list repositories: %w", err)
	}
	var errs []error
	for _, t := range repos {
		if err := s.sweepRepo(ctx, t, now); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.FullName(), err))
		}
	}
	return errors.Join(errs...)
}

func (s *Sweeper) sweepRepo(ctx context.Context, t rules.Target, now time.Time) error {
	cfg, err := s.Config.Config(ctx, t)
	if err != nil {
		return err
	}
	routes, afters := untriagedRoutes(cfg)
	if len(routes) == 0 {
		return nil
	}
	issues, err := s.Source.OpenIssuesWithLabel(ctx, t, cfg.NeedsTriage.Label)
	if err != nil {
		return err
	}
	var known map[string]notify.ChannelConfig
	if s.Notifier != nil {
		known = s.Notifier.Channels()
	}
	for _, is := range issues {
		var mem rules.Memory
		if _, err := s.Store.LoadMemory(ctx, queue.IssueKey(t.RepoID, is.Number), &mem); err != nil {
			return err
		}
		if mem.Triaged {
			continue
		}
		if !mem.OpenedAt.IsZero() {
			is.OpenedAt = mem.OpenedAt // reopened: counted from then
		}
		is.Label = cfg.NeedsTriage.Label
		for i, r := range routes {
			if !notify.Due(is.OpenedAt, afters[i], now) {
				continue
			}
			for _, ch := range r.To {
				if _, ok := known[ch]; !ok {
					continue
				}
				if _, err := reportUntriaged(ctx, s.Store, s.Notifier, t, is, ch, afters[i], now, known[ch]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// reportUntriaged enqueues the untriaged report of is on ch unless it was reported before,
// and records it.
// It reports whether it enqueued.
func reportUntriaged(ctx context.Context, store Store, n Notifier, t rules.Target, is notify.UntriagedIssue, ch string,
	after time.Duration, now time.Time, cc notify.ChannelConfig) (bool, error) {
	key := reportedKey(t.RepoID, is.Number, ch)
	var done leaseRecord
	rev, err := store.LoadMemory(ctx, key, &done)
	if err != nil {
		return false, err
	}
	if rev != 0 {
		return false, nil
	}
	if cc.Type == notify.TypeGitHub {
		if err := (&installations{store: store}).remember(ctx, is.Repo, t.InstallationID); err != nil {
			return false, err
		}
	}
	if err := n.Enqueue(ctx, notify.UntriagedNotification(is, ch, after, now.UTC())); err != nil {
		return false, fmt.Errorf("enqueue untriaged report of %s#%d: %w", is.Repo, is.Number, err)
	}
	if err := store.StoreMemory(ctx, key, leaseRecord{At: now.UTC()}, 0); err != nil && !errors.Is(err, queue.ErrConflict) {
		return true, err
	}
	return true, nil
}
