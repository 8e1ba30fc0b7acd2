package handlers

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/rules"
)

// Notifier takes the maintainers' notifications for their channels' dispatchers; a
// *notify.Queue implements it. Its channels come only from TRIAGEBOT_CONFIG: a repository's
// routes name them and cannot define them.
type Notifier interface {
	Enqueue(ctx context.Context, n notify.Notification) error
	Channels() map[string]notify.ChannelConfig
}

var _ Notifier = (*notify.Queue)(nil)

// NotificationID is the dedup key of one notification: the event, the route, the channel, and
// the label or level the route filtered on, so a retried or redelivered event never sends twice.
func NotificationID(deliveryID, route, channel, filter string) string {
	id := deliveryID + "." + route + "." + channel
	if filter != "" {
		id += "." + filter
	}
	return id
}

// notifyIssue is what a notification says about its issue.
type notifyIssue struct {
	title, url string
}

func issueOf(payload any) notifyIssue {
	var is *github.Issue
	switch ev := payload.(type) {
	case *github.IssuesEvent:
		is = ev.GetIssue()
	case *github.IssueCommentEvent:
		is = ev.GetIssue()
	}
	return notifyIssue{title: is.GetTitle(), url: is.GetHTMLURL()}
}

// routeNotifications enqueues, for every notify action among results, one notification per
// channel of each route that asks for it, and rewrites the action's result to say what was
// enqueued. An Enqueue failure is returned (the event is retried; IDs keep it from sending
// twice); channels the server does not define are skipped with one warning per event.
func (w *Worker) routeNotifications(ctx context.Context, log *zap.Logger, deliveryID string, t rules.Target,
	cfg rules.Config, is notifyIssue, results []rules.Result) error {
	var known map[string]notify.ChannelConfig
	if w.cfg.Notifier != nil {
		known = w.cfg.Notifier.Channels()
	}
	var unknown []string
	var firstErr error
	for i := range results {
		a := results[i].Action
		if a.Type != rules.Notify {
			continue
		}
		var sent, missing, failed, public []string
		for _, r := range matchingRoutes(cfg, a) {
			for _, ch := range r.To {
				if _, ok := known[ch]; !ok {
					missing = appendNew(missing, ch)
					unknown = appendNew(unknown, ch)
					continue
				}
				if a.Private && known[ch].Type == notify.TypeGitHub {
					public = appendNew(public, ch) // private means private: a github channel posts in public
					continue
				}
				n := notify.Notification{
					ID:      NotificationID(deliveryID, a.Channel, ch, routeFilter(r)),
					Channel: ch,
					Route:   a.Channel,
					Repo:    t.FullName(),
					RepoID:  t.RepoID,
					Number:  t.Number,
					Title:   is.title,
					URL:     is.url,
					Event:   eventOf(a),
					Reason:  a.Reason,
					Text:    a.Text,
					At:      w.cfg.Now().UTC(),
				}
				if a.Repo != "" {
					n.Repo = a.Repo
				}
				if a.Number != 0 {
					n.Number = a.Number
				}
				if slices.Contains(sent, ch) {
					continue // two routes to one channel: one notification
				}
				if known[ch].Type == notify.TypeGitHub {
					if err := w.installs.remember(ctx, n.Repo, t.InstallationID); err != nil {
						failed = append(failed, ch)
						firstErr = cmp.Or(firstErr, err)
						continue
					}
				}
				if err := w.cfg.Notifier.Enqueue(ctx, n); err != nil {
					failed = append(failed, ch)
					if firstErr == nil {
						firstErr = fmt.Errorf("enqueue notification %s: %w", n.ID, err)
					}
					continue
				}
				sent = append(sent, ch)
			}
		}
		results[i] = notifyResult(results[i], sent, missing, failed)
		if len(public) > 0 {
			results[i].Detail += "; private, so not posted on GitHub through " + strings.Join(public, ", ")
		}
	}
	if len(unknown) > 0 {
		log.Warn("notification routes name channels the server does not define (TRIAGEBOT_CONFIG channels); skipped",
			zap.Strings("channels", unknown))
	}
	return firstErr
}

// notifyResult says what became of a notify action: enqueued for some channels, or skipped.
func notifyResult(r rules.Result, sent, missing, failed []string) rules.Result {
	var parts []string
	if len(sent) > 0 {
		parts = append(parts, "enqueued for "+strings.Join(sent, ", "))
	}
	if len(missing) > 0 {
		parts = append(parts, "unknown channels skipped: "+strings.Join(missing, ", ")+" (channels are defined in TRIAGEBOT_CONFIG)")
	}
	if len(failed) > 0 {
		parts = append(parts, "enqueue failed for "+strings.Join(failed, ", ")+" (retried)")
	}
	switch {
	case len(failed) > 0:
		r.Status = rules.StatusFailed
	case len(sent) > 0:
		r.Status = rules.StatusDone
	default:
		r.Status = rules.StatusSkipped
		if len(parts) == 0 {
			parts = append(parts, "no route asks for "+r.Action.Channel)
		}
	}
	r.Detail = strings.Join(parts, "; ")
	return r
}

// matchingRoutes are the routes of cfg that want action a: the same event, and the same label
// (labeled) or level (priority_changed) when the route names one. Untriaged routes are the
// timer's, never an event's.
func matchingRoutes(cfg rules.Config, a rules.Action) []rules.Route {
	var out []rules.Route
	for _, r := range cfg.Notifications.Routes {
		if r.On != a.Channel || r.On == rules.RouteUntriaged {
			continue
		}
		if r.Label != "" && !strings.EqualFold(r.Label, a.Label) {
			continue
		}
		if r.Level != "" && !strings.EqualFold(r.Level, a.Label) && !strings.EqualFold(r.Level, levelName(cfg, a.Label)) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func levelName(cfg rules.Config, label string) string {
	for _, l := range cfg.Priority.Levels {
		if strings.EqualFold(l.Label, label) {
			return l.Name()
		}
	}
	return label // "none"
}

// routeFilter is what a route filtered on, part of the notification's ID.
func routeFilter(r rules.Route) string {
	switch {
	case r.Label != "":
		return strings.ToLower(r.Label)
	case r.Level != "":
		return strings.ToLower(r.Level)
	}
	return ""
}

// eventOf says in a few words what happened.
func eventOf(a rules.Action) string {
	switch a.Channel {
	case rules.RouteIssueOpened:
		return "opened"
	case rules.RouteLabeled:
		return "labeled " + a.Label
	case rules.RoutePriorityChanged:
		return "priority " + a.Label
	case rules.RouteConduct:
		return "code of conduct"
	case rules.RouteNotifyCommand:
		return "/notify"
	}
	return a.Channel
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// RepoInstallation is the memory of which App installation serves a repository, written when a
// notification for a github channel is enqueued: the dispatcher's Commenter, which sees only
// the notification, posts through that installation.
type RepoInstallation struct {
	ID int64 `json:"id"`
}

// InstallationKey is the memory key of a repository's RepoInstallation (owner/name, any case).
func InstallationKey(repo string) string {
	return "installation." + hex.EncodeToString([]byte(strings.ToLower(repo)))
}

// installations remembers RepoInstallations, writing each at most once per process.
type installations struct {
	store Store
	seen  sync.Map // lower-case repo → installation id written
}

func (m *installations) remember(ctx context.Context, repo string, id int64) error {
	if id == 0 || repo == "" {
		return nil
	}
	if v, ok := m.seen.Load(strings.ToLower(repo)); ok && v.(int64) == id {
		return nil
	}
	key := InstallationKey(repo)
	var cur RepoInstallation
	rev, err := m.store.LoadMemory(ctx, key, &cur)
	if err != nil {
		return err
	}
	if cur.ID != id {
		if err := m.store.StoreMemory(ctx, key, RepoInstallation{ID: id}, rev); err != nil {
			return fmt.Errorf("remember the installation of %s: %w", repo, err)
		}
	}
	m.seen.Store(strings.ToLower(repo), id)
	return nil
}
