package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// priority keeps exactly one priority label on an open issue, chosen by how much the community
// talks about it. It acts only when the level changes, and never touches a priority a human set
// (priority.respect_manual).
func (e *eval) priority() {
	cfg := e.cfg.Priority
	switch {
	case !cfg.Enabled || len(cfg.Levels) == 0:
		e.skip(RulePriority, "switched off (priority.enabled, priority.levels)")
		return
	case e.isPR():
		e.skip(RulePriority, "pull requests get no priority")
		return
	case e.issue.GetState() != "open":
		e.skip(RulePriority, "the issue is %s", e.issue.GetState())
		return
	}
	switch {
	case e.event == "issue_comment" && (e.action == "created" || e.action == "deleted"):
	case e.event == "issues" && (e.action == "labeled" || e.action == "unlabeled") &&
		len(cfg.AppliesTo) > 0 && e.levelIndex(e.label) < 0:
		// A label can make the issue qualify, or stop qualifying.
	default:
		e.skip(RulePriority, "the score changes with new or deleted comments, not with %s", e.kindOf())
		return
	}
	present := e.presentLevels()
	if cfg.RespectManual && e.manualPriority(present) {
		e.skip(RulePriority, "a person set the priority (priority.respect_manual)")
		return
	}
	n := len(cfg.Levels)
	cur := n
	if len(present) > 0 {
		cur = present[0]
	}
	score, scoreText := e.score()
	target := n
	why := ""
	if e.qualifies() {
		target = pickLevel(cfg.Levels, cfg.Hysteresis, score, cur)
		why = scoreText
	} else if len(present) == 0 {
		e.skip(RulePriority, "the issue does not match priority.applies_to")
		return
	} else {
		why = "the issue no longer matches priority.applies_to"
	}
	e.applyLevel(RulePriority, present, target, why, true)
}

// applyLevel makes level target (len(levels): none) the issue's only priority label. why is the
// score (scored) or a person's decision.
func (e *eval) applyLevel(rule string, present []int, target int, why string, scored bool) {
	levels := e.cfg.Priority.Levels
	changed := false
	for _, i := range present {
		if i == target {
			continue
		}
		reason := fmt.Sprintf("%s: below every priority level", why)
		switch {
		case !scored || !e.qualifies():
			reason = why
		case target < i:
			reason = fmt.Sprintf("%s: raised to %q", why, levels[target].Label)
		case target < len(levels):
			reason = fmt.Sprintf("%s: lowered to %q", why, levels[target].Label)
		}
		e.emit(Action{Rule: rule, Type: RemoveLabel, Label: levels[i].Label, Reason: reason})
		e.mem.BotLabels = removeFold(e.mem.BotLabels, levels[i].Label)
		e.labels = removeFold(e.labels, levels[i].Label)
		changed = true
	}
	if target < len(levels) && !e.hasLabel(levels[target].Label) {
		l := levels[target]
		reason := why
		if scored {
			reason = fmt.Sprintf("%s: reaches %q (at %d)", why, l.Label, l.At)
		}
		e.emit(Action{Rule: rule, Type: AddLabels, Labels: []string{l.Label}, Reason: reason})
		e.mem.BotLabels = addFold(e.mem.BotLabels, l.Label)
		e.labels = addFold(e.labels, l.Label)
		changed = true
	}
	if !changed {
		now := "no priority label"
		if target < len(levels) {
			now = fmt.Sprintf("%q", levels[target].Label)
		}
		e.skip(rule, "%s: the issue keeps %s", why, now)
	} else {
		from := "none"
		if len(present) > 0 {
			from = levels[present[0]].Label
		}
		to, name := "none", ""
		if target < len(levels) {
			to, name = levels[target].Label, levels[target].Name()
		}
		e.notify(RulePriority, RoutePriorityChanged, to, name,
			fmt.Sprintf("%s#%d %q: priority %s → %s (%s)", e.repo, e.number, e.issue.GetTitle(), from, to, why))
	}
}

// pickLevel chooses the level for score given the current level cur (len(levels): none). Going
// up is immediate; going down happens only once the score is hysteresis below the current
// level's threshold, and lands on the highest level the score still holds with that margin.
func pickLevel(levels []Level, hysteresis, score, cur int) int {
	n := len(levels)
	raw := n
	for i, l := range levels {
		if score >= l.At {
			raw = i
			break
		}
	}
	if raw <= cur {
		return raw
	}
	for j := cur; j < n; j++ {
		if score >= levels[j].At-hysteresis {
			return j
		}
	}
	return n
}

// score is the issue's priority score and how it was reached, for the reason.
func (e *eval) score() (int, string) {
	comments := e.issue.GetComments() - e.botCommentsCounted()
	if comments < 0 {
		comments = 0
	}
	switch e.cfg.Priority.Score {
	case ScoreParticipants:
		n := len(e.mem.Commenters)
		return n, fmt.Sprintf("%d people have commented", n)
	case ScoreCommentsAndReactions:
		up := e.issue.GetReactions().GetPlusOne()
		return comments + up, fmt.Sprintf("%d comments and %d 👍 (score %d)", comments, up, comments+up)
	}
	return comments, fmt.Sprintf("%d comments", comments)
}

// botCommentsCounted is how many of the bot's comments the payload's comment count includes. A
// comment's payload is a picture taken when it was written: a bot comment posted after it (the
// bot may be behind) is not in its count. GitHub's comment ids increase, so the bot comments
// that existed then are those with a smaller id; a comment whose id is not known is counted if it
// was decided before this event. Comments decided by this event come after any payload.
func (e *eval) botCommentsCounted() int {
	if e.comment == nil || e.comment.GetID() == 0 {
		return len(e.priorBot)
	}
	n := 0
	for _, k := range e.priorBot {
		id, known := e.mem.BotCommentIDs[k]
		if !known {
			if v, ok := strings.CutPrefix(k, "id:"); ok {
				id, _ = strconv.ParseInt(v, 10, 64)
				known = id != 0
			}
		}
		if !known || id < e.comment.GetID() {
			n++
		}
	}
	return n
}

// levelIndex is the position of a priority label in the configured levels, or -1.
func (e *eval) levelIndex(label string) int {
	if label == "" {
		return -1
	}
	for i, l := range e.cfg.Priority.Levels {
		if strings.EqualFold(l.Label, label) {
			return i
		}
	}
	return -1
}

// presentLevels are the levels whose label the issue carries, highest first.
func (e *eval) presentLevels() []int {
	var out []int
	for i, l := range e.cfg.Priority.Levels {
		if e.hasLabel(l.Label) {
			out = append(out, i)
		}
	}
	return out
}

// manualPriority reports whether a human decided this issue's priority: they set or removed a
// priority label, or the issue carries one the bot did not put there.
func (e *eval) manualPriority(present []int) bool {
	if e.mem.PriorityManual {
		return true
	}
	for _, i := range present {
		if !containsFold(e.mem.BotLabels, e.cfg.Priority.Levels[i].Label) {
			return true
		}
	}
	return false
}

// qualifies reports whether priority.applies_to lets the rule act on this issue.
func (e *eval) qualifies() bool {
	if len(e.cfg.Priority.AppliesTo) == 0 {
		return true
	}
	for _, l := range e.labels {
		if matchAny(e.cfg.Priority.AppliesTo, l) {
			return true
		}
	}
	return false
}

// setPriority is a maintainer choosing the priority (the /priority command of issue 5): level
// indexes the configured levels. From then on the comment count leaves the issue alone.
func (e *eval) setPriority(rule string, level int, reason string) {
	if level < 0 || level >= len(e.cfg.Priority.Levels) {
		return
	}
	e.applyLevel(rule, e.presentLevels(), level, reason, false)
	e.mem.PriorityManual = true
}

// releasePriority hands the priority back to the comment count (/priority none): whatever
// priority labels a human set go, and the level the score calls for is applied at once.
func (e *eval) releasePriority(rule, reason string) {
	e.mem.PriorityManual = false
	present := e.presentLevels()
	target := len(e.cfg.Priority.Levels)
	scored := e.cfg.Priority.Enabled && e.qualifies()
	if scored {
		score, scoreText := e.score()
		target = pickLevel(e.cfg.Priority.Levels, e.cfg.Priority.Hysteresis, score, target)
		reason += "; " + scoreText
	}
	e.applyLevel(rule, present, target, reason, scored)
	if target < len(e.cfg.Priority.Levels) {
		e.mem.BotLabels = addFold(e.mem.BotLabels, e.cfg.Priority.Levels[target].Label)
	}
}
