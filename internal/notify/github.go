package notify

import (
	"context"
	"fmt"
	"strings"

	"github.com/triagebot/triagebot/internal/markdown"
)

// Commenter posts a comment on the issue of n (n.Repo, n.Number). The lead implements it with
// the GitHub executor; its errors are classified by their Permanent() and RetryAfter() methods
// (queue.Permanent, the rate-limit errors). A comment is posted once per digest and issue; the
// Commenter need not deduplicate, though it may key the comment on n.ID.
type Commenter interface {
	Comment(ctx context.Context, n Notification, body string) error
}

type githubSender struct{ c Commenter }

// githubBody is the comment of one issue's digest: the configured mentions (trusted, from the
// server configuration) and each notification with its user text defused.
func githubBody(ch ChannelConfig, items []Notification) string {
	var b strings.Builder
	b.WriteString(strings.Join(ch.Mention, " "))
	if len(items) == 1 {
		b.WriteString(": " + neutralizeMentions(githubLine(items[0])) + "\n")
		return b.String()
	}
	fmt.Fprintf(&b, ": %d notifications on this issue\n\n", len(items))
	for _, n := range items {
		b.WriteString("- " + neutralizeMentions(githubLine(n)) + "\n")
	}
	return b.String()
}

// githubLine leaves out the issue's own link: the comment is on it. Its text holds user text
// (titles, label names, /notify messages), so it is written as literal Markdown.
func githubLine(n Notification) string {
	if n.Text != "" {
		return markdown.Text(n.Text)
	}
	s := n.event()
	if n.Reason != "" {
		s += " (" + oneLine(n.Reason) + ")"
	}
	return markdown.Text(s)
}

func (g githubSender) send(ctx context.Context, ch ChannelConfig, items []Notification) error {
	return g.c.Comment(ctx, items[0], githubBody(ch, items))
}

// issueKey groups a github channel's digest: one comment per issue.
func issueKey(n Notification) string { return fmt.Sprintf("%s#%d", n.Repo, n.Number) }
