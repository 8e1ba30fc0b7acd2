// Package notify delivers maintainer notifications (issue 5) to the channels defined in the
// server-side configuration: a comment mentioning teams on the issue (github), a chat webhook
// (webhook) or an email (email).
//
// Delivery goes through a JetStream stream of its own, so a slow or broken channel never holds
// up triage: the workers Enqueue and return; a Dispatcher, separate from them, batches what
// arrives within a channel's digest window into one message, retries failures with backoff by
// NakWithDelay, and records what it sent so that nothing is sent twice for one Notification ID.
package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Notification is one thing maintainers should hear about, bound for one channel.
type Notification struct {
	// ID is the dedup key: the same ID is enqueued and sent at most once (see Dispatcher for
	// the one window where a crash can repeat a send). Build it from the delivery id, the route
	// and the channel.
	ID      string    `json:"id"`
	Channel string    `json:"channel"`           // the channel's name in TRIAGEBOT_CONFIG
	Route   string    `json:"route"`             // issue_opened, labeled, priority_changed, conduct, notify_command, untriaged
	Repo    string    `json:"repo"`              // owner/name
	RepoID  int64     `json:"repo_id,omitempty"` // for the audit trail of what was sent
	Number  int       `json:"number"`
	Title   string    `json:"title,omitempty"`
	URL     string    `json:"url,omitempty"`
	Event   string    `json:"event,omitempty"` // what happened, e.g. "opened", "labeled bug"; empty: Route
	Reason  string    `json:"reason,omitempty"`
	Text    string    `json:"text,omitempty"` // the one-line message; empty: made from the fields
	At      time.Time `json:"at"`
}

func (n Notification) validate() error {
	switch {
	case n.ID == "":
		return fmt.Errorf("notification has no ID")
	case strings.ContainsAny(n.ID, "\r\n\x00"):
		return fmt.Errorf("notification ID %q contains a line break", n.ID)
	case n.Channel == "":
		return fmt.Errorf("notification %s names no channel", n.ID)
	case n.Repo == "" || n.Number < 0:
		return fmt.Errorf("notification %s names no issue", n.ID)
	}
	return nil
}

func (n Notification) event() string {
	if n.Event != "" {
		return n.Event
	}
	return n.Route
}

// line is the notification as one line of text, user text unescaped (the caller escapes).
func (n Notification) line() string {
	if n.Text != "" {
		return oneLine(n.Text)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s#%d", n.Repo, n.Number)
	if n.Title != "" {
		fmt.Fprintf(&b, " %q", oneLine(n.Title))
	}
	b.WriteString(": " + n.event())
	if n.Reason != "" {
		b.WriteString(" (" + oneLine(n.Reason) + ")")
	}
	if n.URL != "" {
		b.WriteString(" " + n.URL)
	}
	return b.String()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// neutralizeMentions keeps user text (titles, echoed comments) from pinging anyone: "@name"
// becomes "@\u200bname" on GitHub, and chat's @channel/@here/@all are defused the same way.
func neutralizeMentions(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '@' && i+1 < len(s) && isMentionStart(s[i+1]) {
			b.WriteString("\u200b")
		}
	}
	return b.String()
}

func isMentionStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// digestID names a digest by its notifications' IDs: sent again, it carries the same name, so
// that a receiver may recognise the repeat (webhook Idempotency-Key, email Message-ID).
func digestID(items []Notification) string {
	ids := make([]string, len(items))
	for i, n := range items {
		ids[i] = n.ID
	}
	sort.Strings(ids) // redeliveries may come back in another order
	h := sha256.New()
	for _, id := range ids {
		h.Write([]byte(id))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
