package rules

import (
	"strings"

	"github.com/google/go-github/v60/github"
)

// needsTriage puts the needs-triage label on new issues.
func needsTriage(in Input) []Action {
	cfg := in.Config.NeedsTriage
	ev, ok := in.Event.Payload.(*github.IssuesEvent)
	if !ok || !cfg.Enabled || ev.GetIssue() == nil || ev.GetIssue().IsPullRequest() {
		return nil
	}
	if a := ev.GetAction(); a != "opened" && a != "reopened" {
		return nil
	}
	for _, l := range ev.GetIssue().Labels {
		if strings.EqualFold(l.GetName(), cfg.Label) {
			return nil
		}
	}
	return []Action{{
		Rule:   "needs-triage",
		Type:   AddLabels,
		Repo:   ev.GetRepo().GetFullName(),
		Number: ev.GetIssue().GetNumber(),
		Labels: []string{cfg.Label},
		Reason: "new issue: waiting for a maintainer to triage it",
	}}
}
