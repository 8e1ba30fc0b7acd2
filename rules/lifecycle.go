package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/triagebot/triagebot/rules/command"
)

// RuleLifecycle names the actions of the lifecycle rule (issue 12 §2).
const RuleLifecycle = "lifecycle"

// LifecycleConfig configures the kind lifecycle: an issue idle for StaleDays is marked stale
// with one warning; still idle CloseDays later it is closed as not planned. Off by default.
type LifecycleConfig struct {
	Enabled     bool   `yaml:"enabled" json:"enabled"`
	StaleDays   int    `yaml:"stale_days" json:"stale_days"`
	CloseDays   int    `yaml:"close_days" json:"close_days"`
	Label       string `yaml:"label" json:"label"`
	FrozenLabel string `yaml:"frozen_label" json:"frozen_label"`
	// ExemptLabels are label regexes (whole name, any case): such issues never go stale.
	ExemptLabels []string `yaml:"exempt_labels" json:"exempt_labels"`
	// Rules set other days for issues carrying a label (the first rule that matches wins).
	Rules []LifecycleRule `yaml:"rules" json:"rules"`
}

// LifecycleRule sets the days of issues carrying a label (a regex, whole name, any case).
type LifecycleRule struct {
	Label     string `yaml:"label" json:"label"`
	StaleDays int    `yaml:"stale_days" json:"stale_days"`
	CloseDays int    `yaml:"close_days" json:"close_days"`
}

func defaultLifecycle() LifecycleConfig {
	return LifecycleConfig{StaleDays: 60, CloseDays: 14, Label: "lifecycle/stale", FrozenLabel: "lifecycle/frozen",
		ExemptLabels: []string{}, Rules: []LifecycleRule{}}
}

// days are the stale and close days for an issue with labels.
func (c LifecycleConfig) days(labels []string) (stale, close int) {
	for _, r := range c.Rules {
		if slices.ContainsFunc(labels, func(l string) bool { return matchAny([]string{r.Label}, l) }) {
			return r.StaleDays, r.CloseDays
		}
	}
	return c.StaleDays, c.CloseDays
}

// FirstDue is the earliest an idle issue can go stale after activity at t: the lowest of the
// configured stale days (the check itself applies the issue's own).
func (c LifecycleConfig) FirstDue(t time.Time) time.Time {
	d := c.StaleDays
	for _, r := range c.Rules {
		d = min(d, r.StaleDays)
	}
	return t.Add(time.Duration(d) * 24 * time.Hour)
}

// lifecycle notes human activity: it resets the idle time and takes a stale issue back.
func (e *eval) lifecycle() {
	cfg := e.cfg.Lifecycle
	switch {
	case !cfg.Enabled:
		e.skip(RuleLifecycle, "off (lifecycle.enabled)")
		return
	case e.isPR():
		e.skip(RuleLifecycle, "pull requests have no idle lifecycle")
		return
	case e.fromBot || strings.EqualFold(e.senderType, "Bot") || strings.HasSuffix(strings.ToLower(e.sender), "[bot]"):
		e.skip(RuleLifecycle, "an App's or bot's activity does not reset an issue's idle time")
		return
	}
	var at time.Time
	switch {
	case e.event == "issue_comment" && (e.action == "created" || e.action == "edited") && e.comment != nil:
		at = e.comment.GetUpdatedAt().Time
		if at.IsZero() {
			at = e.comment.GetCreatedAt().Time
		}
	case e.event == "issues" && e.action != "closed" && e.action != "deleted" && e.action != "transferred" &&
		!(e.action == "labeled" && strings.EqualFold(e.label, cfg.Label)):
		at = e.issue.GetUpdatedAt().Time
		if at.IsZero() {
			at = e.issue.GetCreatedAt().Time
		}
	}
	if at.IsZero() || !at.After(e.mem.LastActivity) {
		e.skip(RuleLifecycle, "%s is no new activity on the issue", e.kindOf())
		return
	}
	e.mem.LastActivity = at
	// The label counts too: the check that put it on may not have stored its memory yet.
	if !e.mem.StaleSince.IsZero() || e.hasLabel(cfg.Label) {
		e.unstale(RuleLifecycle, fmt.Sprintf("@%s is active on the issue: it is no longer stale", e.sender))
	}
}

// unstale takes the stale mark off.
func (e *eval) unstale(rule, reason string) {
	e.mem.StaleSince = time.Time{}
	l := e.cfg.Lifecycle.Label
	if l != "" && (e.hasLabel(l) || containsFold(e.mem.BotLabels, l)) {
		e.emit(Action{Rule: rule, Type: RemoveLabel, Label: l, Reason: reason})
		e.mem.BotLabels = removeFold(e.mem.BotLabels, l)
		e.labels = removeFold(e.labels, l)
	}
}

// cmdLifecycle is /lifecycle frozen and /remove-lifecycle stale|frozen.
func (e *eval) cmdLifecycle(c command.Command, reason string) {
	cfg := e.cfg.Lifecycle
	if !cfg.Enabled {
		e.problem(c, "the lifecycle (stale issues) is not in use in this repository")
		return
	}
	switch {
	case c.Name == command.Lifecycle:
		e.mem.Frozen = true
		if !e.mem.StaleSince.IsZero() {
			e.unstale(RuleCommands, reason)
		}
		if l := cfg.FrozenLabel; l != "" && !e.hasLabel(l) {
			e.emit(Action{Rule: RuleCommands, Type: AddLabels, Labels: []string{l}, Reason: reason + ": it never goes stale"})
			e.mem.BotLabels = addFold(e.mem.BotLabels, l)
			e.labels = addFold(e.labels, l)
		}
	case c.Args[0] == "frozen":
		e.mem.Frozen = false
		if l := cfg.FrozenLabel; l != "" && e.hasLabel(l) {
			e.emit(Action{Rule: RuleCommands, Type: RemoveLabel, Label: l, Reason: reason})
			e.mem.BotLabels = removeFold(e.mem.BotLabels, l)
			e.labels = removeFold(e.labels, l)
		}
	default:
		if !e.mem.StaleSince.IsZero() || e.hasLabel(cfg.Label) {
			e.unstale(RuleCommands, reason)
		}
	}
}

// LifecycleIssue is what the lifecycle check reads of an issue when its timer is due.
type LifecycleIssue struct {
	Repo      string // owner/name
	Number    int
	Open      bool
	Labels    []string
	Assignees []string
	Milestone bool
}

// LifecycleCheck decides, at now (the timer's clock: the rules read none), what becomes of an
// idle issue: nothing yet (next says when to look again), stale (one keyed warning per cycle and
// the label), or closed as not planned with a note on how to reopen. Issues that never go stale:
// closed ones, untriaged ones (maintainers owe them a triage; the untriaged notifications
// escalate them), those with a priority label from comments, assigned ones, those in a
// milestone, those with an exempt label, frozen ones.
func LifecycleCheck(cfg Config, mem Memory, is LifecycleIssue, now time.Time) (actions []Action, out Memory, next time.Time) {
	lc := cfg.Lifecycle
	out = mem.clone()
	if !lc.Enabled || !is.Open || mem.LastActivity.IsZero() {
		return nil, out, time.Time{}
	}
	has := func(name string) bool { return name != "" && containsFold(is.Labels, name) }
	switch {
	case mem.Frozen || has(lc.FrozenLabel),
		cfg.NeedsTriage.Enabled && has(cfg.NeedsTriage.Label),
		slices.ContainsFunc(cfg.Priority.Levels, func(l Level) bool { return has(l.Label) && containsFold(mem.BotLabels, l.Label) }),
		len(is.Assignees) > 0, is.Milestone,
		slices.ContainsFunc(is.Labels, func(l string) bool { return matchAny(lc.ExemptLabels, l) }):
		return nil, out, time.Time{}
	}
	staleDays, closeDays := lc.days(is.Labels)
	day := 24 * time.Hour
	emit := func(a Action) {
		a.Repo, a.Number = is.Repo, is.Number
		actions = append(actions, Limit(a))
	}
	if mem.StaleSince.IsZero() {
		due := mem.LastActivity.Add(time.Duration(staleDays) * day)
		if now.Before(due) {
			return nil, out, due
		}
		out.StaleSince, out.StaleCycle = now, mem.StaleCycle+1
		reason := fmt.Sprintf("no activity for %d days", staleDays)
		emit(Action{Rule: RuleLifecycle, Type: Comment, Key: fmt.Sprintf("stale-%d", out.StaleCycle), Body: staleBody(staleDays, closeDays, lc.Label), Reason: reason})
		if lc.Label != "" && !has(lc.Label) {
			emit(Action{Rule: RuleLifecycle, Type: AddLabels, Labels: []string{lc.Label}, Reason: reason})
			out.BotLabels = addFold(out.BotLabels, lc.Label)
		}
		return actions, out, now.Add(time.Duration(closeDays) * day)
	}
	due := mem.StaleSince.Add(time.Duration(closeDays) * day)
	if now.Before(due) {
		return nil, out, due
	}
	reason := fmt.Sprintf("stale for %d days without activity", closeDays)
	emit(Action{Rule: RuleLifecycle, Type: Comment, Key: fmt.Sprintf("closed-%d", mem.StaleCycle), Body: closedBody(closeDays), Reason: reason})
	emit(Action{Rule: RuleLifecycle, Type: Close, StateReason: "not_planned", Reason: reason})
	return actions, out, time.Time{}
}

func staleBody(staleDays, closeDays int, label string) string {
	return fmt.Sprintf("This issue has had no activity for %d days, so it is marked %s. It will be closed in %d days unless something happens here: any comment keeps it open (or `/remove-lifecycle stale`). Maintainers can say `/lifecycle frozen` to keep it open for good.\n\nThank you for your patience; a quiet issue is not an unwelcome one.\n",
		staleDays, code(label), closeDays)
}

func closedBody(closeDays int) string {
	return fmt.Sprintf("This issue was stale for %d more days without activity, so it is closed as *not planned*. That is not a judgement on it: if it still matters to you, reopen it (`/reopen` works for its author) or comment, and a maintainer will look again.\n", closeDays)
}

// LifecycleRebase applies what a lifecycle check changed in an issue's memory (from before to
// after) on current, the memory an event of the issue stored while the check acted (the bot's own
// comment coming back as an event, or a person's). When that event was activity, the issue is
// not stale any more: the stale mark is not kept, and the label the check put on comes off again
// (the actions returned), should the event have come before the label did.
func LifecycleRebase(cfg Config, before, after, current Memory) (Memory, []Action) {
	out := current.clone()
	for _, k := range after.BotComments {
		if !containsFold(before.BotComments, k) {
			out.BotComments = addFold(out.BotComments, k)
		}
	}
	for k, id := range after.BotCommentIDs {
		if _, ok := out.BotCommentIDs[k]; !ok {
			if out.BotCommentIDs == nil {
				out.BotCommentIDs = map[string]int64{}
			}
			out.BotCommentIDs[k] = id
		}
	}
	out.StaleCycle = max(out.StaleCycle, after.StaleCycle)
	if after.StaleSince.Equal(before.StaleSince) {
		return out, nil
	}
	l := cfg.Lifecycle.Label
	added := l != "" && containsFold(after.BotLabels, l) && !containsFold(before.BotLabels, l)
	if current.LastActivity.Equal(before.LastActivity) {
		out.StaleSince = after.StaleSince
		if added {
			out.BotLabels = addFold(out.BotLabels, l)
		}
		return out, nil
	}
	if !added {
		return out, nil
	}
	out.BotLabels = removeFold(out.BotLabels, l)
	return out, []Action{{Rule: RuleLifecycle, Type: RemoveLabel, Label: l, Reason: "there was activity on the issue while it was being marked stale"}}
}
