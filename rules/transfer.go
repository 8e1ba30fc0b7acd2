package rules

import "maps"

// Transferred is the memory of an issue moved to another repository (issues.transferred):
// what the bot knew of it (provenance, priority, its own comments) joined with into, whatever
// the new issue's events already taught the bot, since GitHub may deliver them first.
func (m Memory) Transferred(into Memory) Memory {
	out := m.clone()
	for _, l := range into.BotLabels {
		if !containsFold(out.HumanRemoved, l) {
			out.BotLabels = addFold(out.BotLabels, l)
		}
	}
	for _, l := range into.HumanAdded {
		out.HumanAdded = addFold(out.HumanAdded, l)
	}
	for _, l := range into.HumanRemoved {
		out.HumanRemoved = addFold(out.HumanRemoved, l)
	}
	for _, c := range into.BotComments {
		out.BotComments = addFold(out.BotComments, c)
	}
	for _, r := range into.Reminded {
		out.Reminded = addFold(out.Reminded, r)
	}
	out.Triaged = m.Triaged || into.Triaged
	out.PriorityManual = m.PriorityManual || into.PriorityManual
	if out.OpenedAt.IsZero() {
		out.OpenedAt = into.OpenedAt
	}
	if len(into.BotCommentIDs) > 0 && out.BotCommentIDs == nil {
		out.BotCommentIDs = map[string]int64{}
	}
	maps.Copy(out.BotCommentIDs, into.BotCommentIDs)
	for login, n := range into.Commenters {
		if out.Commenters == nil {
			out.Commenters = map[string]int{}
		}
		out.Commenters[login] = max(out.Commenters[login], n)
	}
	return out
}
