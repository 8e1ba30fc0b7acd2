package rules

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/triagebot/triagebot/internal/markdown"
)

// HistoryEntry is one thing the bot did (or decided to do) on an issue, as the audit stream
// recorded it. The worker fills Input.History from that stream for `/why`.
type HistoryEntry struct {
	Time       time.Time
	Rule       string
	Type       string // an ActionType
	Reason     string
	Status     string // a Status: done, skipped, dry_run, failed
	DeliveryID string
	Labels     []string // add_labels
	Label      string   // remove_label
}

// historyLimit is how many entries a /why reply lists: the latest ones.
const historyLimit = 30

// FormatHistory is the /why reply: a table of what the bot did on the issue, oldest first, the
// latest historyLimit entries. Reactions and notifications are left out: reactions are only
// feedback, and notifications go to the maintainers alone (a private code-of-conduct flag must
// stay private, and anyone may run /why). Every piece of recorded text is neutralised, since
// reasons name the people involved and must not mention them again.
func FormatHistory(entries []HistoryEntry) string {
	var shown []HistoryEntry
	for _, h := range entries {
		if h.Type == string(React) || h.Type == string(Notify) {
			continue
		}
		shown = append(shown, h)
	}
	if len(shown) == 0 {
		return "The bot has not changed anything on this issue yet.\n"
	}
	sort.SliceStable(shown, func(i, j int) bool { return shown[i].Time.Before(shown[j].Time) })
	var b strings.Builder
	b.WriteString("What the bot did on this issue, and why:\n\n")
	if n := len(shown) - historyLimit; n > 0 {
		fmt.Fprintf(&b, "(%d earlier %s not shown.)\n\n", n, plural(n, "action is", "actions are"))
		shown = shown[n:]
	}
	b.WriteString("| when (UTC) | rule | what | why |\n| --- | --- | --- | --- |\n")
	for _, h := range shown {
		when := "unknown"
		if !h.Time.IsZero() {
			when = h.Time.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", when, cell(h.Rule), historyWhat(h), cell(h.Reason))
	}
	return b.String()
}

// configProblems is the /why note on configuration files the bot could not use as written.
func configProblems(problems []string) string {
	if len(problems) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nThe configuration is not used as written:\n\n")
	for _, p := range problems {
		fmt.Fprintf(&b, "- %s\n", cell(p))
	}
	return b.String()
}

// historyWhat says what an entry did, in a few words, with its outcome when it is not "done".
func historyWhat(h HistoryEntry) string {
	var what string
	switch ActionType(h.Type) {
	case AddLabels:
		names := make([]string, len(h.Labels))
		for i, l := range h.Labels {
			names[i] = code(l)
		}
		what = "added " + strings.Join(names, ", ")
	case RemoveLabel:
		what = "removed " + code(h.Label)
	case Comment:
		what = "commented"
	case Assign:
		what = "assigned"
	case Unassign:
		what = "unassigned"
	case Close:
		what = "closed"
	case Reopen:
		what = "reopened"
	case Lock:
		what = "locked the conversation"
	case Unlock:
		what = "unlocked the conversation"
	case EditBody:
		what = "replaced the issue's text"
	default:
		what = cell(h.Type)
	}
	switch Status(h.Status) {
	case StatusDone, "":
	case StatusSkipped:
		what += " (nothing to change)"
	case StatusDryRun:
		what += " (dry run: not written)"
	case StatusFailed:
		what += " (failed)"
	default:
		what += " (" + cell(h.Status) + ")"
	}
	return markdown.Cell(what)
}

// cell makes recorded text safe in a markdown table cell: one line, literal (no markup, no
// mention), not too long.
func cell(s string) string {
	return markdown.Cell(markdown.Text(shorten(strings.Join(strings.Fields(s), " "), 200)))
}

// code shows user text in a code span, whatever it holds, shortened if long.
func code(s string) string { return markdown.Code(shorten(s, 60)) }

func shorten(s string, limit int) string {
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + "…"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
