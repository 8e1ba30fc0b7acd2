package rules

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Memory is the bot's memory of one issue (DESIGN.md §4), stored by the worker as JSON and
// handed back with the next event of the same issue. The zero value is an issue the bot has
// not seen before. Label names and logins are compared in any case.
type Memory struct {
	BotLabels    []string `json:"bot_labels,omitempty"`    // labels the bot put on the issue (and has not seen removed)
	HumanAdded   []string `json:"human_added,omitempty"`   // labels a human added (the latest human decision per label)
	HumanRemoved []string `json:"human_removed,omitempty"` // labels a human removed: the bot never puts these back

	// What the issue carried when it was opened: its author's template may set labels and
	// assignees, and those are not a maintainer's triage.
	OpenedLabels    []string `json:"opened_labels,omitempty"`
	OpenedAssignees []string `json:"opened_assignees,omitempty"`

	Triaged bool `json:"triaged,omitempty"` // a maintainer triaged the issue since it was (re)opened

	// OpenedAt is when the issue was (re)opened, from the payload (the rules read no clock): the
	// untriaged notifications of issue 5 need no call to GitHub for issues the bot saw open.
	OpenedAt time.Time `json:"opened_at,omitzero"`

	// PriorityManual: a human set or removed a priority label, so the comment-count rule leaves
	// the issue's priority alone (priority.respect_manual). `/priority none` clears it.
	PriorityManual bool `json:"priority_manual,omitempty"`

	// BotComments are the bot's own comments on the issue, which never count towards a score:
	// "RULE:KEY" of a keyed comment (recorded when the rule decides to post it, so the count holds
	// even when the worker never passes the bot's own events), or "id:N" for one seen only as an event.
	BotComments []string `json:"bot_comments,omitempty"`
	// BotCommentIDs are the GitHub ids of those comments, where the executor reported them.
	BotCommentIDs map[string]int64 `json:"bot_comment_ids,omitempty"`
	Commenters    map[string]int   `json:"commenters,omitempty"` // human commenter (lower case) → number of their comments seen
	Reminded      []string         `json:"reminded,omitempty"`   // users (lower case) already reminded of the code of conduct here

	// The security-report guard (issue 12 §1): SecurityFlagged once the issue was taken for a
	// vulnerability report (the guard acts once per issue); SecurityLocked when the bot locked it;
	// NotSecurity once a maintainer said /not-security: the guard leaves the issue alone for good.
	SecurityFlagged bool `json:"security_flagged,omitempty"`
	SecurityLocked  bool `json:"security_locked,omitempty"`
	NotSecurity     bool `json:"not_security,omitempty"`

	// The lifecycle (issue 12 §2): LastActivity is the latest human activity seen; StaleSince when
	// the issue was marked stale (zero: it is not); StaleCycle counts the warnings (one keyed
	// comment each); Frozen after /lifecycle frozen.
	LastActivity time.Time `json:"last_activity,omitzero"`
	StaleSince   time.Time `json:"stale_since,omitzero"`
	StaleCycle   int       `json:"stale_cycle,omitempty"`
	Frozen       bool      `json:"frozen,omitempty"`

	// CommandDeliveries are the delivery ids of the latest comment events whose commands ran,
	// so a redelivery of an old event does not run them again over later decisions.
	CommandDeliveries []string `json:"command_deliveries,omitempty"`
}

// RepoMemory is the bot's memory of one repository.
type RepoMemory struct {
	Authors []string `json:"authors,omitempty"` // users (lower case) who opened an issue here before
	// FirstIssues is the issue each author (lower case) opened first here, as the bot saw it:
	// that issue's event, and only it (or its retries), welcomes them. The worker keeps it in a
	// record per author, created before the event's actions, so the events of an author's
	// issues opened at once agree on which was first.
	FirstIssues map[string]int `json:"first_issues,omitempty"`
}

func (m Memory) clone() Memory {
	out := m
	out.BotLabels = slices.Clone(m.BotLabels)
	out.HumanAdded = slices.Clone(m.HumanAdded)
	out.HumanRemoved = slices.Clone(m.HumanRemoved)
	out.OpenedLabels = slices.Clone(m.OpenedLabels)
	out.OpenedAssignees = slices.Clone(m.OpenedAssignees)
	out.BotComments = slices.Clone(m.BotComments)
	if m.BotCommentIDs != nil {
		out.BotCommentIDs = make(map[string]int64, len(m.BotCommentIDs))
		for k, v := range m.BotCommentIDs {
			out.BotCommentIDs[k] = v
		}
	}
	out.Reminded = slices.Clone(m.Reminded)
	out.CommandDeliveries = slices.Clone(m.CommandDeliveries)
	if m.Commenters != nil {
		out.Commenters = make(map[string]int, len(m.Commenters))
		for k, v := range m.Commenters {
			out.Commenters[k] = v
		}
	}
	return out
}

func (r RepoMemory) clone() RepoMemory {
	return RepoMemory{Authors: slices.Clone(r.Authors), FirstIssues: maps.Clone(r.FirstIssues)}
}

// containsFold reports whether list holds s, in any case.
func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// addFold adds s to list unless it is there in some case.
func addFold(list []string, s string) []string {
	if s == "" || containsFold(list, s) {
		return list
	}
	return append(list, s)
}

// removeFold removes s, in any case, from list.
func removeFold(list []string, s string) []string {
	return slices.DeleteFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}

// Posted records the ids of the keyed bot comments the executor created or edited, so that a
// later comment's payload can tell which of them it counted (see the priority score).
func (m Memory) Posted(results []Result) Memory {
	out := m.clone()
	for _, r := range results {
		a := r.Action
		if a.Type != Comment || a.Key == "" || r.CommentID == 0 {
			continue
		}
		key := a.Rule + ":" + a.Key
		if !containsFold(out.BotComments, key) {
			continue
		}
		if out.BotCommentIDs == nil {
			out.BotCommentIDs = map[string]int64{}
		}
		if _, seen := out.BotCommentIDs[key]; !seen {
			out.BotCommentIDs[key] = r.CommentID
		}
	}
	return out
}

// Rebase applies what an event changed in an issue's memory (from before to after) on current,
// the memory as another writer has since stored it: the backfill walk, a lifecycle check. Each
// field the event changed takes the event's value; the others keep current's. The event's
// actions are done by then, so its view of what it changed wins.
func (m Memory) Rebase(before, current Memory) Memory {
	out := current.clone()
	o, a, b := reflect.ValueOf(&out).Elem(), reflect.ValueOf(m), reflect.ValueOf(before)
	for i := range o.NumField() {
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			o.Field(i).Set(a.Field(i))
		}
	}
	return out.clone()
}
