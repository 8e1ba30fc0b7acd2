package rules

import (
	"fmt"
	"slices"
	"strings"
)

// maxProblemsShown is how many problems a command reply lists before "… and N more".
const maxProblemsShown = 30

// mergeLabelActions turns the label actions the commands of one comment emitted (from
// e.actions[start:]) into the fewest requests (issue 8.5): the net additions in one add_labels,
// then the net removals, where the first label action was; other actions keep their order. A
// label added and removed again (or the other way round) costs nothing. Additions beyond what
// GitHub allows on an issue (MaxLabelsPerIssue, counted from before, the labels the issue had)
// are dropped and reported in the reply.
func (e *eval) mergeLabelActions(start int, before []string) {
	var (
		adds, removes []string
		reasons       []string
		removeReason  = map[string]string{}
		others        []Action
		at            = -1
	)
	for _, a := range e.actions[start:] {
		switch {
		case a.Type == AddLabels:
			for _, l := range a.Labels {
				removes = removeFold(removes, l)
				if !containsFold(before, l) {
					adds = addFold(adds, l)
				}
			}
			reasons = appendNewReason(reasons, a.Reason)
		case a.Type == RemoveLabel:
			adds = removeFold(adds, a.Label)
			if containsFold(before, a.Label) || a.Rule != RuleCommands {
				removes = addFold(removes, a.Label)
				removeReason[strings.ToLower(a.Label)] = a.Reason
			}
		default:
			others = append(others, a)
			continue
		}
		if at < 0 {
			at = len(others)
		}
	}
	if at < 0 {
		return
	}
	present := len(before)
	for _, l := range removes {
		if containsFold(before, l) {
			present--
		}
	}
	if room := max(MaxLabelsPerIssue-present, 0); len(adds) > room {
		dropped := adds[room:]
		adds = adds[:room:room]
		e.dropLabels(dropped)
		e.cmd.problems = append(e.cmd.problems, fmt.Sprintf("%d %s not added (%s): GitHub allows at most %d labels on an issue",
			len(dropped), plural(len(dropped), "label was", "labels were"), codeList(dropped), MaxLabelsPerIssue))
	}
	var merged []Action
	if len(adds) > 0 {
		merged = append(merged, Limit(Action{Rule: RuleCommands, Type: AddLabels, Repo: e.repo, Number: e.number,
			Labels: adds, Reason: strings.Join(reasons, "; ")}))
	}
	for _, l := range removes {
		merged = append(merged, Action{Rule: RuleCommands, Type: RemoveLabel, Repo: e.repo, Number: e.number,
			Label: l, Reason: removeReason[strings.ToLower(l)]})
	}
	out := append(slices.Clone(e.actions[:start]), others[:at]...)
	out = append(out, merged...)
	e.actions = append(out, others[at:]...)
}

// dropLabels forgets additions that will not be made, and their notifications.
func (e *eval) dropLabels(dropped []string) {
	for _, l := range dropped {
		e.labels = removeFold(e.labels, l)
		e.mem.HumanAdded = removeFold(e.mem.HumanAdded, l)
		e.mem.BotLabels = removeFold(e.mem.BotLabels, l)
	}
	e.actions = slices.DeleteFunc(e.actions, func(a Action) bool {
		return a.Type == Notify && a.Channel == RouteLabeled && containsFold(dropped, a.Label)
	})
}

func appendNewReason(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
