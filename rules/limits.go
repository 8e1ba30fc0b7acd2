package rules

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// What GitHub accepts, and the bot's own bounds on what one comment may ask of it (issue 8.5).
// Every action passes through Limit, so no rule, command or future caller can exceed them.
const (
	// MaxCommentChars is GitHub's limit on a comment's body.
	MaxCommentChars = 65536
	// maxBodyChars is what a rule's text may use: the executor adds a marker line.
	maxBodyChars = 60000
	// MaxLabelsPerIssue is GitHub's limit on the labels of one issue.
	MaxLabelsPerIssue = 100
	// MaxAssignees is GitHub's limit on the assignees of one issue.
	MaxAssignees = 10
	// limitNoticeRoom is kept free for the notice that says how much of a body was cut.
	limitNoticeRoom = 200
	// MaxCommandsPerComment bounds the commands one comment runs; the rest are refused in the reply.
	MaxCommandsPerComment = 20
	// maxReasonChars bounds an action's reason (the audit record, /why).
	maxReasonChars = 1000
	// maxNotifyChars bounds a notification's text (a security report carries the issue's).
	maxNotifyChars = maxBodyChars
	// maxListShown is how many items of a list of user text a message shows before "… and N more".
	maxListShown = 10
)

// Limit brings an action within GitHub's limits: a comment body under MaxCommentChars, at most
// MaxLabelsPerIssue labels, MaxAssignees assignees; what is cut says so in the text.
func Limit(a Action) Action {
	if n := utf8.RuneCountInString(a.Body); n > maxBodyChars {
		// Room for the notice is kept, so that the result is within the limit and a second
		// Limit (the executor's, after the rules') leaves it as it is.
		kept := cutText(a.Body, maxBodyChars-limitNoticeRoom)
		a.Body = kept + fmt.Sprintf("\n\n… and %d more characters not shown (GitHub allows %d in a comment).\n",
			n-utf8.RuneCountInString(kept), MaxCommentChars)
	}
	if n := len(a.Labels); n > MaxLabelsPerIssue {
		a.Labels = a.Labels[:MaxLabelsPerIssue:MaxLabelsPerIssue]
		a.Reason += fmt.Sprintf(" (… and %d more labels not added: GitHub allows %d on an issue)", n-MaxLabelsPerIssue, MaxLabelsPerIssue)
	}
	if n := len(a.Assignees); n > MaxAssignees {
		a.Assignees = a.Assignees[:MaxAssignees:MaxAssignees]
		a.Reason += fmt.Sprintf(" (… and %d more people not assigned: GitHub allows %d)", n-MaxAssignees, MaxAssignees)
	}
	if utf8.RuneCountInString(a.Text) > maxNotifyChars {
		a.Text = shorten(a.Text, maxNotifyChars-1) // shorten adds "…"
	}
	if utf8.RuneCountInString(a.Reason) > maxReasonChars {
		a.Reason = shorten(a.Reason, maxReasonChars-1)
	}
	return a
}

// cutText keeps at most limit runes of s, cut at a line break when one is near the end.
func cutText(s string, limit int) string {
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	out := string(r[:limit])
	if i := strings.LastIndexByte(out, '\n'); i > len(out)/2 {
		out = out[:i]
	}
	return out
}

// shownList shows at most maxListShown items, each through show, and says how many more there
// are: `a`, `b` … and 37 more.
func shownList(items []string, show func(string) string) string {
	n := min(len(items), maxListShown)
	out := make([]string, n)
	for i := range n {
		out[i] = show(items[i])
	}
	s := strings.Join(out, ", ")
	if more := len(items) - n; more > 0 {
		s += fmt.Sprintf(" … and %d more", more)
	}
	return s
}
