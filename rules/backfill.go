package rules

import "github.com/google/go-github/v60/github"

// Backfill decides what the bot does for an issue that was already open when the App was
// installed: the rules that make sense for history. needs-triage goes on an issue nobody has
// triaged (no label but not_triage_labels, no assignee, no triage in memory), and the priority
// its current comment count reaches goes on (participants are not known for history: the
// comment count stands in). Nothing speaks to people: no welcome, no reminder, no notification.
func Backfill(cfg Config, repo *github.Repository, issue *github.Issue, mem Memory) Outcome {
	if cfg.Priority.Score == ScoreParticipants {
		cfg.Priority.Score = ScoreComments
	}
	e := newEval(Input{Config: cfg, Memory: mem, Event: Event{Name: "issues",
		Payload: &github.IssuesEvent{Action: github.String("backfill"), Issue: issue, Repo: repo}}})
	if e.issue == nil || e.isPR() || e.issue.GetState() != "open" {
		return Outcome{Memory: mem}
	}
	nt := cfg.NeedsTriage
	untriaged := len(e.issue.Assignees) == 0 && !e.mem.Triaged
	for _, l := range e.labels {
		if !matchAny(nt.NotTriageLabels, l) {
			untriaged = false
		}
	}
	if nt.Enabled && nt.Label != "" && untriaged && !e.hasLabel(nt.Label) && !containsFold(e.mem.HumanRemoved, nt.Label) {
		e.emit(Action{Rule: RuleNeedsTriage, Type: AddLabels, Labels: []string{nt.Label},
			Reason: "open before the bot was installed and not triaged yet"})
		e.mem.BotLabels = addFold(e.mem.BotLabels, nt.Label)
		e.labels = addFold(e.labels, nt.Label)
	}
	if p := cfg.Priority; p.Enabled && len(p.Levels) > 0 && e.qualifies() {
		present := e.presentLevels()
		if len(present) == 0 { // a priority already there was set by a person: theirs
			score, why := e.score()
			if target := pickLevel(p.Levels, p.Hysteresis, score, len(p.Levels)); target < len(p.Levels) {
				e.applyLevel(RulePriority, nil, target, why, true)
			}
		}
	}
	var actions []Action
	for _, a := range e.actions {
		if a.Type != Notify { // history is not news
			actions = append(actions, a)
		}
	}
	return Outcome{Actions: actions, Memory: e.mem}
}
