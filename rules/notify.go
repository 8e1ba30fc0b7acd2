package rules

import (
	"fmt"
	"strings"
)

// announce tells maintainers about the events their notification routes ask for. Routing to
// real channels is internal/notify's (issue 5); a notify action names the route event as its
// Channel, and Label for labeled and priority_changed.
func (e *eval) announce() {
	if e.event != "issues" || e.isPR() {
		e.skip(RuleNotify, "routes announce issues events, not %s", e.kindOf())
		return
	}
	switch e.action {
	case "opened":
		e.notify(RuleNotify, RouteIssueOpened, "", "", fmt.Sprintf("New issue %s#%d by @%s: %q %s",
			e.repo, e.number, e.author, e.issue.GetTitle(), e.issue.GetHTMLURL()))
	case "labeled":
		e.notify(RuleNotify, RouteLabeled, e.label, "", fmt.Sprintf("@%s labelled %s#%d %q: %s %s",
			e.sender, e.repo, e.number, e.issue.GetTitle(), e.label, e.issue.GetHTMLURL()))
	default:
		e.skip(RuleNotify, "routes announce issues opened or labelled; an issue %s is not announced", e.action)
	}
}

// notify emits a notify action of rule when some route wants this event. label filters routes on
// labeled and priority_changed; level (a level's name) filters priority_changed.
func (e *eval) notify(rule, on, label, level, text string) {
	for _, r := range e.cfg.Notifications.Routes {
		if r.On != on {
			continue
		}
		if r.Label != "" && !strings.EqualFold(r.Label, label) {
			continue
		}
		if r.Level != "" && !strings.EqualFold(r.Level, level) && !strings.EqualFold(r.Level, label) {
			continue
		}
		e.emit(Action{Rule: rule, Type: Notify, Channel: on, Label: label, Text: text,
			Reason: "a notification route asks for " + on})
		return
	}
	e.skip(rule, "no notification route asks for %s", on)
}
