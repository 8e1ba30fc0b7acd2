package notify

import (
	"context"
	"fmt"
	"time"
)

// Untriaged reports: an issue still carrying the needs-triage label `after` it was opened is
// reported once per issue and channel. The bot knows when issues it saw open were opened (its
// memory), so those need no polling of GitHub; a periodic sweep lists the open issues carrying
// the label to cover issues opened before the bot was installed. Both build their notification
// with UntriagedNotification, whose ID makes the second reporter's Enqueue a no-op.

// Due reports whether an issue opened at openedAt and still untriaged should be reported by a
// route with `after`, at now. A zero openedAt (unknown) is never due: the sweep finds it.
func Due(openedAt time.Time, after time.Duration, now time.Time) bool {
	return !openedAt.IsZero() && !now.Before(DueAt(openedAt, after))
}

// DueAt is when an issue opened at openedAt becomes due for an untriaged report.
func DueAt(openedAt time.Time, after time.Duration) time.Time { return openedAt.Add(after) }

// UntriagedID is the Notification ID of an issue's untriaged report on a channel: one per
// issue and channel, whoever (the memory-based timer or the sweep) notices first. The sent
// bucket remembers it for Config.SentTTL; the bot's memory of the issue should record the
// report too, so that it is not repeated after that.
func UntriagedID(repo string, number int, channel string) string {
	return fmt.Sprintf("untriaged:%s#%d:%s", repo, number, channel)
}

// UntriagedIssue is an open issue that still carries the needs-triage label.
type UntriagedIssue struct {
	Repo     string // owner/name
	RepoID   int64  // 0 when not known
	Number   int
	Title    string
	URL      string
	OpenedAt time.Time
	Label    string // the needs-triage label it carries
}

// UntriagedNotification is the report of issue to channel by a route with after.
func UntriagedNotification(issue UntriagedIssue, channel string, after time.Duration, now time.Time) Notification {
	// Hours are precise enough for days-long waits; a short route (after: 30m) keeps minutes.
	waited := now.Sub(issue.OpenedAt).Truncate(time.Hour)
	if waited < time.Hour {
		waited = now.Sub(issue.OpenedAt).Truncate(time.Minute)
	}
	return Notification{
		ID:      UntriagedID(issue.Repo, issue.Number, channel),
		Channel: channel,
		Route:   "untriaged",
		Repo:    issue.Repo,
		RepoID:  issue.RepoID,
		Number:  issue.Number,
		Title:   issue.Title,
		URL:     issue.URL,
		Event:   fmt.Sprintf("untriaged for %s", humanDuration(waited)),
		Reason:  fmt.Sprintf("still labelled %q more than %s after it was opened", issue.Label, humanDuration(after)),
		At:      now,
	}
}

// DueIssues are the issues due for a report at now, in the order given.
func DueIssues(issues []UntriagedIssue, after time.Duration, now time.Time) []UntriagedIssue {
	var out []UntriagedIssue
	for _, is := range issues {
		if Due(is.OpenedAt, after, now) {
			out = append(out, is)
		}
	}
	return out
}

func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= time.Minute:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	default:
		return d.String()
	}
}

// Sketch of the sweep the lead wires (not implemented here):

// UntriagedLister lists a repository's open issues carrying label, with when each was opened.
// The GitHub executor implements it with conditional requests.
type UntriagedLister interface {
	ListUntriaged(ctx context.Context, repo, label string) ([]UntriagedIssue, error)
}

// Sweeper reports the untriaged issues the bot's memory does not know about: every period it
// lists each installed repository's issues carrying the needs-triage label, keeps the DueIssues
// of each untriaged route, and Enqueues an UntriagedNotification per issue and channel.
type Sweeper interface {
	Sweep(ctx context.Context, now time.Time) error
}
