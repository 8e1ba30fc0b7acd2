package rules

import (
	"fmt"
	"strings"
	"time"
)

// needsTriage marks new issues as waiting for a maintainer and unmarks them once a maintainer
// has triaged them. Provenance (Memory) decides what the bot may undo: a label a human removed
// is never put back on that issue.
func (e *eval) needsTriage() {
	cfg := e.cfg.NeedsTriage
	switch {
	case !cfg.Enabled || cfg.Label == "":
		e.skip(RuleNeedsTriage, "switched off (needs_triage.enabled)")
		return
	case e.event != "issues":
		e.skip(RuleNeedsTriage, "it follows issues events, not %s", e.kindOf())
		return
	case e.isPR():
		e.skip(RuleNeedsTriage, "pull requests are not triaged")
		return
	}
	switch e.action {
	case "opened", "reopened":
		if e.hasLabel(cfg.Label) {
			e.skip(RuleNeedsTriage, "the issue already has %q", cfg.Label)
			return
		}
		if containsFold(e.mem.HumanRemoved, cfg.Label) {
			e.skip(RuleNeedsTriage, "a person took %q off this issue before: it is not put back", cfg.Label)
			return
		}
		if e.action == "opened" && e.mem.Triaged {
			e.skip(RuleNeedsTriage, "a maintainer's triage was handled before this late opened event")
			return
		}
		reason := "new issue: waiting for a maintainer to triage it"
		if e.action == "reopened" {
			reason = "issue reopened: waiting for a maintainer to triage it again"
		}
		e.emit(Action{Rule: RuleNeedsTriage, Type: AddLabels, Labels: []string{cfg.Label}, Reason: reason})
		e.mem.BotLabels = addFold(e.mem.BotLabels, cfg.Label)
	case "labeled":
		switch {
		case e.label == "" || strings.EqualFold(e.label, cfg.Label):
			// A human put needs-triage (back) on: leave it; the next triage removes it again.
			e.skip(RuleNeedsTriage, "a person put %q on: it stays until the issue is triaged", cfg.Label)
		case e.byTemplate(e.mem.OpenedLabels, e.label):
			e.skip(RuleNeedsTriage, "the author's issue template applied %q: that is not triage", e.label)
		case matchAny(cfg.NotTriageLabels, e.label):
			e.skip(RuleNeedsTriage, "%q does not count as triage (needs_triage.not_triage_labels)", e.label)
		case !e.senderMayTriage():
			e.skip(RuleNeedsTriage, "@%s is an App or bot: its labels are not triage (needs_triage.triage_bots)", e.sender)
		default:
			e.triaged(RuleNeedsTriage, fmt.Sprintf("@%s labelled the issue %q: it has been triaged", e.sender, e.label))
		}
	case "assigned":
		switch {
		case !cfg.RemoveOnAssign:
			e.skip(RuleNeedsTriage, "assigning does not count as triage (needs_triage.remove_on_assign)")
		case e.byTemplate(e.mem.OpenedAssignees, e.assignee):
			e.skip(RuleNeedsTriage, "the author's issue template assigned @%s: that is not triage", e.assignee)
		case !e.senderMayTriage():
			e.skip(RuleNeedsTriage, "@%s is an App or bot: its assignments are not triage (needs_triage.triage_bots)", e.sender)
		default:
			e.triaged(RuleNeedsTriage, fmt.Sprintf("@%s assigned the issue to @%s: it has been triaged", e.sender, e.assignee))
		}
	case "closed":
		present := e.hasLabel(cfg.Label) || containsFold(e.mem.BotLabels, cfg.Label)
		switch {
		case !cfg.RemoveOnClose:
			e.skip(RuleNeedsTriage, "closing leaves %q on (needs_triage.remove_on_close)", cfg.Label)
		case !present:
			e.skip(RuleNeedsTriage, "the closed issue has no %q to take off", cfg.Label)
		default:
			e.emit(Action{Rule: RuleNeedsTriage, Type: RemoveLabel, Label: cfg.Label, Reason: "issue closed: no longer waiting for triage"})
			e.mem.BotLabels = removeFold(e.mem.BotLabels, cfg.Label)
			e.labels = removeFold(e.labels, cfg.Label)
		}
	default:
		e.skip(RuleNeedsTriage, "an issue %s changes no triage state", e.action)
	}
}

// senderMayTriage: a person's labels and assignments are triage; those of Apps and bots (sender
// type Bot: auto-labellers, github-actions[bot]) only when needs_triage.triage_bots names them.
func (e *eval) senderMayTriage() bool {
	isBot := strings.EqualFold(e.senderType, "Bot") || strings.HasSuffix(strings.ToLower(e.sender), "[bot]")
	return !isBot || containsFold(e.cfg.NeedsTriage.TriageBots, e.sender)
}

// byTemplate reports whether this change is the author's own issue template at work rather than
// a maintainer's triage: made by the author, and either part of what the issue was opened with
// or made by an author who could not label or assign otherwise.
func (e *eval) byTemplate(opened []string, name string) bool {
	if e.author == "" || !strings.EqualFold(e.sender, e.author) {
		return false
	}
	return containsFold(opened, name) || !isMaintainer(e.issue.GetAuthorAssociation()) || e.beforeOpened()
}

// templateWindow is how soon after an issue's creation GitHub applies its template's labels and
// assignees.
const templateWindow = time.Minute

// beforeOpened: the bot has not seen the issue's opened event yet (GitHub may deliver the
// template's labeled event first), and the issue is as new as a template's change is: what the
// author does then is the template at work, not triage.
func (e *eval) beforeOpened() bool {
	if !e.mem.OpenedAt.IsZero() || e.mem.OpenedLabels != nil {
		return false
	}
	created, updated := e.issue.GetCreatedAt().Time, e.issue.GetUpdatedAt().Time
	return !created.IsZero() && updated.Sub(created) <= templateWindow
}

// triaged records that a maintainer triaged the issue and takes the needs-triage label off if
// it is there. The /triage command (issue 5) calls it with its own rule and reason.
func (e *eval) triaged(rule, reason string) {
	e.mem.Triaged = true
	label := e.cfg.NeedsTriage.Label
	// The payload is a picture taken when the maintainer acted: a label the bot put on just
	// before may not be in it yet. The bot's memory says it is there unless someone took it off.
	present := e.hasLabel(label) || containsFold(e.mem.BotLabels, label)
	if !e.cfg.NeedsTriage.Enabled || label == "" || !present {
		e.skip(rule, "triaged, and there is no %q on the issue to take off", label)
		return
	}
	e.emit(Action{Rule: rule, Type: RemoveLabel, Label: label, Reason: reason})
	e.mem.BotLabels = removeFold(e.mem.BotLabels, label)
	e.labels = removeFold(e.labels, label)
}

// needsTriageAgain puts the needs-triage label back because a human asked (the /needs-triage
// command of issue 5): that overrides an earlier human removal.
func (e *eval) needsTriageAgain(rule, reason string) {
	label := e.cfg.NeedsTriage.Label
	e.mem.Triaged = false
	e.mem.HumanRemoved = removeFold(e.mem.HumanRemoved, label)
	if !e.cfg.NeedsTriage.Enabled || label == "" || e.hasLabel(label) {
		return
	}
	e.emit(Action{Rule: rule, Type: AddLabels, Labels: []string{label}, Reason: reason})
	e.mem.BotLabels = addFold(e.mem.BotLabels, label)
	e.labels = addFold(e.labels, label)
}
