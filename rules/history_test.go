package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestFormatHistory(t *testing.T) {
	start := time.Date(2026, 11, 1, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	var many []HistoryEntry
	for i := range historyLimit + 2 {
		many = append(many, HistoryEntry{Time: start.Add(time.Duration(i) * time.Hour), Rule: RulePriority, Type: string(AddLabels),
			Labels: []string{"priority: low"}, Status: "done", Reason: fmt.Sprintf("%d comments", i)})
	}
	tests := []struct {
		file string
		give []HistoryEntry
	}{
		{file: "history-empty.md"},
		{file: "history-only-feedback.md", give: []HistoryEntry{
			{Time: start, Rule: RuleCommands, Type: string(React), Status: "done", Reason: "every command in the comment ran"},
			{Time: start, Rule: RuleCodeOfConduct, Type: string(Notify), Status: "skipped", Reason: "@troll's comment matches: maintainers should look"},
		}},
		{file: "history-kinds.md", give: []HistoryEntry{
			// Out of order on purpose: the table is sorted by time.
			{Time: start.Add(3 * time.Hour), Rule: RuleCommands, Type: string(Close), Status: "dry_run", Reason: "/close not-planned by @alice"},
			{Time: start, Rule: RuleNeedsTriage, Type: string(AddLabels), Labels: []string{"needs-triage", "a|b"}, Status: "done", DeliveryID: "d1", Reason: "new issue: waiting for a maintainer to triage it"},
			{Time: start.Add(time.Hour), Rule: RuleCodeOfConduct, Type: string(Comment), Status: "skipped", Reason: "@bob's comment matches the pattern \"x|y\"\nsecond line"},
			{Time: start.Add(2 * time.Hour), Rule: RuleCommands, Type: string(RemoveLabel), Label: "@org/everyone", Status: "failed", Reason: "/remove-label @org/everyone by @alice"},
			{Time: start.Add(4 * time.Hour), Rule: RuleCommands, Type: string(Reopen), Status: "done", Reason: "/reopen by @alice"},
			{Time: start.Add(5 * time.Hour), Rule: RuleCommands, Type: string(Assign), Reason: "/assign @carol by @alice"},
			{Time: start.Add(6 * time.Hour), Rule: RuleCommands, Type: string(Unassign), Status: "done", Reason: strings.Repeat("long ", 60)},
			{Rule: "future-rule", Type: "lock", Status: "queued", Reason: "no time recorded"},
		}},
		{file: "history-many.md", give: many},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := FormatHistory(tt.give)
			if strings.Contains(strings.ReplaceAll(got, "@\u200b", ""), "@") {
				t.Errorf("a mention survived:\n%s", got)
			}
			compareGolden(t, tt.file, got)
		})
	}
}
