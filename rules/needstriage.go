package rules

import (
	"fmt"
	"strings"
)

// needsTriage marks new issues as waiting for a maintainer and unmarks them once a maintainer
// has triaged them. Provenance (Memory) decides what the bot may undo: a label a human removed
// is never put back on that issue.
func (e *eval) needsTriage() {
	cfg := e.cfg.NeedsTriage
	if !cfg.Enabled || cfg.Label == "" || e.event != "issues" || e.isPR() {
		return
	}
	switch e.action {
	case "opened", "reopened":
		if e.hasLabel(cfg.Label) || containsFold(e.mem.HumanRemoved, cfg.Label) || (e.action == "opened" && e.mem.Triaged) {
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
		case e.byTemplate(e.mem.OpenedLabels, e.label):
		case matchAny(cfg.NotTriageLabels, e.label):
		default:
			e.triaged(RuleNeedsTriage, fmt.Sprintf("@%s labelled the issue %q: it has been triaged", e.sender, e.label))
		}
	case "assigned":
		if cfg.RemoveOnAssign && !e.byTemplate(e.mem.OpenedAssignees, e.assignee) {
			e.triaged(RuleNeedsTriage, fmt.Sprintf("@%s assigned the issue to @%s: it has been triaged", e.sender, e.assignee))
		}
	}
}

// byTemplate reports whether this change is the author's own issue template at work rather than
// a maintainer's triage: made by the author, and either part of what the issue was opened with
// or made by an author who could not label or assign otherwise.
func (e *eval) byTemplate(opened []string, name string) bool {
	if e.author == "" || !strings.EqualFold(e.sender, e.author) {
		return false
	}
	return containsFold(opened, name) || !isMaintainer(e.issue.GetAuthorAssociation())
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
