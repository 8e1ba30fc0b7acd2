package rules

import "fmt"

// Rules lists the rules in the order Evaluate runs them, as actions and explanations name them.
var Rules = []string{RuleNeedsTriage, RuleLifecycle, RuleSecurity, RuleCommands, RulePriority, RuleCodeOfConduct, RuleNotify}

// skip tells Input.Explain, in words, why rule does not act on this event.
func (e *eval) skip(rule, format string, args ...any) {
	if e.explain != nil {
		e.explain(rule, fmt.Sprintf(format, args...))
	}
}

// kindOf names the event as people say it: "issues.opened", "issue_comment.created".
func (e *eval) kindOf() string {
	if e.action == "" {
		return e.event
	}
	return e.event + "." + e.action
}
