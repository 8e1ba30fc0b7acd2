package handlers

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/rules"
)

// Audit action types of side effects that no rule decided (they have no rules.ActionType).
const (
	AuditCreateLabel      = "create_label"      // a label created at installation or after a configuration push
	AuditNotificationSent = "notification_sent" // a notification a channel actually took
)

// Rules of the audit records of side effects no rule decided.
const (
	RuleInstallation  = "installation"  // labels created when the App is installed
	RuleConfiguration = "configuration" // labels created after a configuration push
	RuleNotification  = "notification"  // a notification sent
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

// NotificationSentRecord is the audit record of a notification a channel took: the channel's
// name and type, never its address.
func NotificationSentRecord(n notify.Notification, channelType string, at time.Time) AuditRecord {
	rec := AuditRecord{Time: at.UTC(), DeliveryID: n.ID, Event: "notification", Repo: n.Repo, Number: n.Number, Result: rules.Result{
		Action: rules.Action{Rule: RuleNotification, Type: AuditNotificationSent, Repo: n.Repo, Number: n.Number,
			Channel: n.Channel, Reason: cmp.Or(n.Reason, n.Route)},
		Status: rules.StatusDone,
		Detail: fmt.Sprintf("%s channel %s, route %s", channelType, n.Channel, n.Route),
	}}
	rec.msgID = "audit-sent-" + n.ID
	return rec
}
