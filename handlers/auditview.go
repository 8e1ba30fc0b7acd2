package handlers

import (
	"fmt"
	"strings"

	"github.com/triagebot/triagebot/rules"
)

// Audit action types of side effects that no rule decided (they have no rules.ActionType).
const (
	AuditCreateLabel      = "create_label"      // a label created at installation or after a configuration push
	AuditNotificationSent = "notification_sent" // a notification a channel actually took
)

// What says in a few plain words what the record's action did: the status page and
// `triagebot audit` show it.
func (r AuditRecord) What() string {
	a := r.Result.Action
	switch a.Type {
	case rules.AddLabels, AuditCreateLabel:
		return fmt.Sprintf("%s %s", a.Type, strings.Join(a.Labels, ", "))
	case rules.RemoveLabel:
		return fmt.Sprintf("%s %s", a.Type, a.Label)
	case rules.Assign, rules.Unassign:
		return fmt.Sprintf("%s %s", a.Type, strings.Join(a.Assignees, ", "))
	case rules.React:
		return fmt.Sprintf("%s %s", a.Type, a.Content)
	case rules.Close:
		return strings.TrimSpace(fmt.Sprintf("%s %s", a.Type, a.StateReason))
	case rules.Notify, AuditNotificationSent:
		return fmt.Sprintf("%s %s", a.Type, a.Channel)
	}
	return string(a.Type)
}
