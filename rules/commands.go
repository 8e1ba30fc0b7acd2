package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/triagebot/triagebot/internal/markdown"
	"github.com/triagebot/triagebot/rules/command"
)

// RuleCommands names the actions of comment commands.
const RuleCommands = "commands"

// maxCommandDeliveries bounds Memory.CommandDeliveries: the latest deliveries are enough to
// recognise a redelivery (`triagebot redeliver`, GitHub's own) of a recent command comment.
const maxCommandDeliveries = 50

// PermissionSelfAssign is the commands.permissions key for /assign and /unassign of oneself.
const PermissionSelfAssign = "self-assign"

// maxLabelLength is GitHub's limit on a label name; a longer one would fail the whole event.
const maxLabelLength = 50

// commandRun is the state of the commands of one comment, as they run in order.
type commandRun struct {
	actor     string // who typed the commands: the sender (the comment's author, or its editor)
	assoc     string // the comment's author_association, when the actor wrote the comment
	isAuthor  bool   // the actor opened the issue
	commentID int64

	perms    map[string]string // GitHub permission per login (lower case), asked once per event
	noLookup bool              // a permission was needed and there is no Lookup (replay)

	history     string // the /why answer, built once
	historyDone bool

	problems []string // refused or invalid commands, for the reply
	sections []string // /help and /why answers, for the reply
	later    []Action // comments, emitted once the priority rule has counted the comments

	merging bool // label actions are emitted as they are, for mergeLabelActions

	state     string   // the issue's state as the commands leave it
	assignees []string // the issue's assignees as the commands leave them
}

// commands runs the comment commands of an issue_comment event (issue 5): all of a new comment,
// only those an edit added (so fixing a typo never runs a comment's commands again), none of a
// deleted one. The actor is the event's sender. Comments of other GitHub Apps (logins ending in
// "[bot]") are never read as commands: apps quote and echo other people's text. Commands work
// on pull requests too and act on the pull request, except that /close sets no state reason
// there. The replies and the reaction are emitted by commandFeedback, after the priority rule.
func (e *eval) commands(ctx context.Context) error {
	if !e.cfg.Commands.Enabled {
		e.skip(RuleCommands, "switched off (commands.enabled)")
		return nil
	}
	if e.event != "issue_comment" || e.comment == nil {
		e.skip(RuleCommands, "commands come in comments, not in %s", e.kindOf())
		return nil
	}
	if strings.HasSuffix(strings.ToLower(e.sender), "[bot]") || e.comment.GetUser().GetType() == "Bot" {
		e.skip(RuleCommands, "comments of other apps are never read as commands")
		return nil
	}
	var cmds []command.Command
	switch e.action {
	case "created":
		cmds = command.Parse(e.comment.GetBody())
	case "edited":
		b := e.changes.GetBody()
		if b == nil || b.From == nil {
			return nil
		}
		cmds = command.AddedCommands(*b.From, e.comment.GetBody())
	}
	if len(cmds) == 0 {
		e.skip(RuleCommands, "%s: no /command line to run", e.kindOf())
		return nil
	}
	if e.deliveryID != "" && slices.Contains(e.mem.CommandDeliveries, e.deliveryID) {
		e.skip(RuleCommands, "a redelivery: its commands ran already")
		return nil // a redelivery: its commands ran; running them again could undo later decisions
	}
	r := &commandRun{
		actor:     e.sender,
		isAuthor:  e.author != "" && strings.EqualFold(e.sender, e.author),
		commentID: e.comment.GetID(),
		perms:     map[string]string{},
		state:     e.issue.GetState(),
	}
	if strings.EqualFold(e.sender, e.comment.GetUser().GetLogin()) {
		r.assoc = strings.ToUpper(e.comment.GetAuthorAssociation())
	}
	for _, a := range e.issue.Assignees {
		r.assignees = addFold(r.assignees, a.GetLogin())
	}
	e.cmd = r
	if n := len(cmds) - MaxCommandsPerComment; n > 0 {
		rest := make([]string, n)
		for i, c := range cmds[MaxCommandsPerComment:] {
			rest[i] = c.Raw
		}
		r.problems = append(r.problems, fmt.Sprintf("%d more %s in this comment %s not run: a comment may hold at most %d commands (%s)",
			n, plural(n, "command", "commands"), plural(n, "was", "were"), MaxCommandsPerComment, shownList(rest, code)))
		cmds = cmds[:MaxCommandsPerComment]
	}
	start, before := len(e.actions), slices.Clone(e.labels)
	r.merging = true
	for _, c := range cmds {
		if err := e.runCommand(ctx, c); err != nil {
			e.cmd = nil
			return err
		}
	}
	e.mergeLabelActions(start, before)
	r.merging = false
	if e.deliveryID != "" {
		e.mem.CommandDeliveries = append(e.mem.CommandDeliveries, e.deliveryID)
		if n := len(e.mem.CommandDeliveries) - maxCommandDeliveries; n > 0 {
			e.mem.CommandDeliveries = e.mem.CommandDeliveries[n:]
		}
	}
	return nil
}

func (e *eval) runCommand(ctx context.Context, c command.Command) error {
	if c.Err != nil {
		e.cmd.problems = append(e.cmd.problems, invalidCommand(c))
		return nil
	}
	switch c.Name {
	case command.Label:
		return e.cmdLabel(ctx, c)
	case command.RemoveLabel:
		return e.cmdRemoveLabel(ctx, c)
	case command.Assign, command.Unassign:
		return e.cmdAssign(ctx, c)
	}
	ok, err := e.allowed(ctx, e.required(c.Name))
	if err != nil {
		return err
	}
	if !ok {
		e.refuse(c, e.required(c.Name), nil)
		return nil
	}
	reason := fmt.Sprintf("/%s by @%s", c.Name, e.cmd.actor)
	switch c.Name {
	case command.Priority:
		e.cmdPriority(c)
	case command.Triage:
		e.triaged(RuleCommands, reason)
	case command.NeedsTriage:
		if !e.cfg.NeedsTriage.Enabled || e.cfg.NeedsTriage.Label == "" {
			e.problem(c, "the needs-triage label is not in use in this repository")
			return nil
		}
		e.needsTriageAgain(RuleCommands, reason)
	case command.Close:
		e.cmdClose(c)
	case command.Reopen:
		e.cmdReopen(c, reason)
	case command.CoC:
		url, err := e.codeOfConductURL(ctx)
		if err != nil {
			return err
		}
		e.cmd.later = append(e.cmd.later, Action{Rule: RuleCommands, Type: Comment,
			Key: fmt.Sprintf("coc-%d", e.cmd.commentID), Body: cocBody(url), Reason: reason})
	case command.Notify:
		e.cmdNotify(c, reason)
	case command.Help:
		help, err := e.helpSection(ctx)
		if err != nil {
			return err
		}
		e.section(help)
	case command.Why:
		e.section(e.whySection(ctx, c))
	case command.NotSecurity:
		e.cmdNotSecurity(c, reason)
	case command.Lifecycle, command.RemoveLifecycle:
		e.cmdLifecycle(c, fmt.Sprintf("/%s %s by @%s", c.Name, c.Args[0], e.cmd.actor))
	}
	return nil
}

// cmdLabel adds labels. Each label is decided alone: one matching commands.anyone_may_label
// needs no permission. The needs-triage label goes through /needs-triage's path and a priority
// label through /priority's, so the issue keeps one priority level and the rules' memory stays
// right. Adding another label with the label permission is triage, as labelling by hand is.
func (e *eval) cmdLabel(ctx context.Context, c command.Command) error {
	level := e.required(c.Name)
	var add, refused []string
	triage := false
	for _, name := range e.labelArgs(c) {
		name = strings.TrimSpace(name)
		if len([]rune(name)) > maxLabelLength {
			e.problem(c, fmt.Sprintf("%s is longer than the %d characters GitHub allows in a label", code(name), maxLabelLength))
			continue
		}
		byLevel := false
		if !matchAny(e.cfg.Commands.AnyoneMayLabel, name) {
			ok, err := e.allowed(ctx, level)
			if err != nil {
				return err
			}
			if !ok {
				refused = append(refused, name)
				continue
			}
			byLevel = true
		}
		reason := fmt.Sprintf("/label %s by @%s", argText(name), e.cmd.actor)
		switch {
		case command.SameLabel(name, e.cfg.NeedsTriage.Label) && e.cfg.NeedsTriage.Enabled:
			e.needsTriageAgain(RuleCommands, reason)
		case e.levelIndex(name) >= 0:
			e.setPriority(RuleCommands, e.levelIndex(name), reason)
		default:
			e.mem.HumanAdded = addFold(e.mem.HumanAdded, name)
			e.mem.HumanRemoved = removeFold(e.mem.HumanRemoved, name)
			e.mem.BotLabels = removeFold(e.mem.BotLabels, name)
			if e.hasLabel(name) || containsFold(add, name) {
				continue
			}
			add = append(add, name)
			if byLevel && !matchAny(e.cfg.NeedsTriage.NotTriageLabels, name) {
				triage = true
			}
		}
	}
	if len(refused) > 0 {
		e.refuse(c, level, refused)
	}
	if len(add) == 0 {
		return nil
	}
	names := make([]string, len(add))
	for i, n := range add {
		names[i] = argText(n)
	}
	reason := fmt.Sprintf("/label %s by @%s", strings.Join(names, " "), e.cmd.actor)
	e.emit(Action{Rule: RuleCommands, Type: AddLabels, Labels: add, Reason: reason})
	for _, name := range add {
		e.labels = addFold(e.labels, name)
		e.notify(RuleCommands, RouteLabeled, name, "", fmt.Sprintf("@%s labelled %s#%d %q: %s %s",
			e.cmd.actor, e.repo, e.number, command.Neutralize(e.issue.GetTitle()), command.Neutralize(name), e.issue.GetHTMLURL()))
	}
	if triage {
		e.triaged(RuleCommands, reason+": the issue has been triaged")
	}
	return nil
}

// labelArgs are the label names of a /label or /remove-label, at most what an issue can carry:
// the rest are refused at once, without the work each label costs.
func (e *eval) labelArgs(c command.Command) []string {
	if n := len(c.Args) - MaxLabelsPerIssue; n > 0 {
		e.problem(c, fmt.Sprintf("%d more %s not considered: an issue carries at most %d (%s)",
			n, plural(n, "label was", "labels were"), MaxLabelsPerIssue, codeList(c.Args[MaxLabelsPerIssue:])))
		return c.Args[:MaxLabelsPerIssue]
	}
	return c.Args
}

// cmdRemoveLabel removes labels, each decided alone as in cmdLabel; the rules remember the
// removal as a person's, so the bot never puts the label back.
func (e *eval) cmdRemoveLabel(ctx context.Context, c command.Command) error {
	level := e.required(c.Name)
	var refused []string
	defer func() {
		if len(refused) > 0 {
			e.refuse(c, level, refused)
		}
	}()
	for _, name := range e.labelArgs(c) {
		name = strings.TrimSpace(name)
		if !matchAny(e.cfg.Commands.AnyoneMayLabel, name) {
			ok, err := e.allowed(ctx, level)
			if err != nil {
				return err
			}
			if !ok {
				refused = append(refused, name)
				continue
			}
		}
		if !e.hasLabel(name) {
			e.problem(c, fmt.Sprintf("the %s has no label %s", e.kind(), code(name)))
			continue
		}
		if i := slices.IndexFunc(e.labels, func(l string) bool { return command.SameLabel(l, name) }); i >= 0 {
			name = e.labels[i] // as GitHub spells it
		}
		e.emit(Action{Rule: RuleCommands, Type: RemoveLabel, Label: name,
			Reason: fmt.Sprintf("/remove-label %s by @%s", argText(name), e.cmd.actor)})
		e.labels = removeFold(e.labels, name)
		e.mem.HumanRemoved = addFold(e.mem.HumanRemoved, name)
		e.mem.HumanAdded = removeFold(e.mem.HumanAdded, name)
		e.mem.BotLabels = removeFold(e.mem.BotLabels, name)
		if e.levelIndex(name) >= 0 {
			e.mem.PriorityManual = true
		}
	}
	return nil
}

// cmdPriority sets a level (a manual priority) or, with none, hands it back to the score.
func (e *eval) cmdPriority(c command.Command) {
	levels := e.cfg.Priority.Levels
	if len(levels) == 0 {
		e.problem(c, "this repository has no priority levels")
		return
	}
	want := strings.ToLower(strings.TrimSpace(c.Args[0]))
	reason := fmt.Sprintf("/priority %s by @%s", want, e.cmd.actor)
	if want == "none" {
		if e.isPR() {
			// The comment-count rule does not score pull requests: none only takes the label off.
			e.mem.PriorityManual = false
			e.applyLevel(RuleCommands, e.presentLevels(), len(levels), reason, false)
			return
		}
		e.releasePriority(RuleCommands, reason)
		return
	}
	for i, l := range levels {
		if l.Name() == want || strings.EqualFold(l.Label, want) {
			e.setPriority(RuleCommands, i, fmt.Sprintf("/priority %s by @%s", l.Name(), e.cmd.actor))
			return
		}
	}
	e.problem(c, fmt.Sprintf("%s is not a priority level here; use %s", code(c.Args[0]), e.levelChoices()))
}

// levelChoices lists the /priority arguments: `high`, `medium`, `low` or `none`.
func (e *eval) levelChoices() string {
	var names []string
	for _, l := range e.cfg.Priority.Levels {
		names = append(names, code(l.Name()))
	}
	return strings.Join(names, ", ") + " or `none`"
}

// cmdAssign assigns or unassigns people. Anyone may assign or unassign themselves (a bare
// /assign is the actor); anyone else needs the command's permission. Assigning with that
// permission is triage (needs_triage.remove_on_assign), as assigning by hand is.
func (e *eval) cmdAssign(ctx context.Context, c command.Command) error {
	level := e.required(c.Name)
	logins := c.Args
	if len(logins) == 0 {
		logins = []string{e.cmd.actor}
	}
	var change, refused, refusedSelf []string
	for _, login := range logins {
		self := strings.EqualFold(login, e.cmd.actor)
		need := level
		if self {
			need = e.required(PermissionSelfAssign)
		}
		ok, err := e.allowed(ctx, need)
		if err != nil {
			return err
		}
		if !ok && self {
			refusedSelf = append(refusedSelf, "@"+login)
			continue
		}
		if !ok {
			refused = append(refused, "@"+login)
			continue
		}
		assigned := containsFold(e.cmd.assignees, login)
		switch {
		case c.Name == command.Assign && !assigned && !containsFold(change, login):
			change = append(change, login)
		case c.Name == command.Unassign && !assigned:
			e.problem(c, fmt.Sprintf("%s is not assigned to this %s", code("@"+login), e.kind()))
		case c.Name == command.Unassign && !containsFold(change, login):
			change = append(change, login)
		}
	}
	if len(refused) > 0 {
		e.refuse(c, level, refused)
	}
	if len(refusedSelf) > 0 {
		e.cmd.problems = append(e.cmd.problems, fmt.Sprintf("%s: only %s may %s themselves here, and %s",
			code(c.Raw), whoMay(e.required(PermissionSelfAssign)), c.Name, e.yourAccess()))
	}
	if len(change) == 0 {
		return nil
	}
	who := make([]string, len(change))
	for i, l := range change {
		who[i] = "@" + l
	}
	reason := fmt.Sprintf("/%s %s by @%s", c.Name, strings.Join(who, " "), e.cmd.actor)
	if c.Name == command.Unassign {
		e.emit(Action{Rule: RuleCommands, Type: Unassign, Assignees: change, Reason: reason})
		for _, l := range change {
			e.cmd.assignees = removeFold(e.cmd.assignees, l)
		}
		return nil
	}
	e.emit(Action{Rule: RuleCommands, Type: Assign, Assignees: change, Reason: reason})
	for _, l := range change {
		e.cmd.assignees = addFold(e.cmd.assignees, l)
	}
	if nt := e.cfg.NeedsTriage; nt.Enabled && nt.RemoveOnAssign && e.hasLabel(nt.Label) {
		ok, err := e.allowed(ctx, level) // a self-assignment is triage only from a maintainer
		if err != nil {
			return err
		}
		if ok {
			e.triaged(RuleCommands, reason+": the issue has been triaged")
		}
	}
	return nil
}

// cmdClose closes the issue, with the state reason asked for (default completed). A closed
// issue is closed again only to change its reason.
func (e *eval) cmdClose(c command.Command) {
	reason := "completed"
	if len(c.Args) > 0 && c.Args[0] == command.ReasonNotPlanned {
		reason = "not_planned"
	}
	why := fmt.Sprintf("/close by @%s", e.cmd.actor)
	if len(c.Args) > 0 {
		why = fmt.Sprintf("/close %s by @%s", c.Args[0], e.cmd.actor)
	}
	if e.isPR() {
		reason = "" // pull requests have no state reason
	}
	if e.cmd.state == "closed" && (len(c.Args) == 0 || reason == "" || reason == e.issue.GetStateReason()) {
		return
	}
	e.emit(Action{Rule: RuleCommands, Type: Close, StateReason: reason, Reason: why})
	e.cmd.state = "closed"
}

// cmdReopen reopens the issue. As when a person reopens it by hand, an issue then waits for
// triage again (a pull request does not).
func (e *eval) cmdReopen(c command.Command, reason string) {
	if e.cmd.state == "open" {
		return
	}
	if e.isPR() && !e.issue.GetPullRequestLinks().GetMergedAt().IsZero() {
		e.problem(c, "a merged pull request cannot be reopened")
		return
	}
	e.emit(Action{Rule: RuleCommands, Type: Reopen, Reason: reason})
	e.cmd.state = "open"
	if e.isPR() {
		return
	}
	e.mem.OpenedAt = e.comment.GetUpdatedAt().Time
	if e.mem.OpenedAt.IsZero() {
		e.mem.OpenedAt = e.comment.GetCreatedAt().Time
	}
	e.mem.Triaged = false
	nt := e.cfg.NeedsTriage
	if nt.Enabled && nt.Label != "" && !e.hasLabel(nt.Label) && !containsFold(e.mem.HumanRemoved, nt.Label) {
		e.emit(Action{Rule: RuleCommands, Type: AddLabels, Labels: []string{nt.Label},
			Reason: reason + ": waiting for a maintainer to triage it again"})
		e.mem.BotLabels = addFold(e.mem.BotLabels, nt.Label)
		e.labels = addFold(e.labels, nt.Label)
	}
}

// cmdNotify asks the maintainers to look, through the notify_command route.
func (e *eval) cmdNotify(c command.Command, reason string) {
	if !e.hasRoute(RouteNotifyCommand) {
		e.problem(c, "no one receives /notify in this repository (it has no `notify_command` notification route); mention a maintainer instead")
		return
	}
	text := fmt.Sprintf("@%s asks the maintainers to look at %s#%d %q", e.cmd.actor, e.repo, e.number,
		command.Neutralize(shorten(e.issue.GetTitle(), 200)))
	if len(c.Args) > 0 {
		text += ": " + command.Neutralize(shorten(c.Args[0], 500))
	}
	text += " " + e.comment.GetHTMLURL()
	e.emit(Action{Rule: RuleCommands, Type: Notify, Channel: RouteNotifyCommand, Text: text, Reason: reason})
}

func (e *eval) hasRoute(on string) bool {
	return slices.ContainsFunc(e.cfg.Notifications.Routes, func(r Route) bool { return r.On == on })
}

// helpSection lists the commands the actor may run here, as far as their permission allows.
func (e *eval) helpSection(ctx context.Context) (string, error) {
	var b strings.Builder
	b.WriteString("Commands you may run here:\n\n| command | what it does |\n| --- | --- |\n")
	anyone := e.cfg.Commands.AnyoneMayLabel
	selfOK, err := e.allowed(ctx, e.required(PermissionSelfAssign))
	if err != nil {
		return "", err
	}
	for _, name := range command.Names() {
		ok, err := e.allowed(ctx, e.required(name))
		if err != nil {
			return "", err
		}
		usage, what := helpRow(e, name)
		switch {
		case usage == "":
			continue
		case ok:
		case (name == command.Label || name == command.RemoveLabel) && len(anyone) > 0:
			what += " matching " + patternList(anyone)
		case name == command.Assign && selfOK:
			usage, what = "`/assign`", "assign yourself"
		case name == command.Unassign && selfOK:
			usage, what = "`/unassign`", "unassign yourself"
		default:
			continue
		}
		fmt.Fprintf(&b, "| %s | %s |\n", usage, what)
	}
	b.WriteString("\nA command is a line of its own that starts with `/`; put label names with spaces in double quotes: `/label \"good first issue\"`.\n")
	if e.cmd.noLookup {
		b.WriteString("Your access to the repository could not be checked, so this list counts it as none.\n")
	}
	return b.String(), nil
}

// helpRow is a command's usage and what it does here; no usage when it does nothing here.
func helpRow(e *eval, name string) (usage, what string) {
	kind := e.kind()
	switch name {
	case command.Label:
		return "`/label NAME...`", "add labels"
	case command.RemoveLabel:
		return "`/remove-label NAME...`", "remove labels"
	case command.Priority:
		if len(e.cfg.Priority.Levels) == 0 {
			return "", ""
		}
		var names []string
		for _, l := range e.cfg.Priority.Levels {
			names = append(names, l.Name())
		}
		return "`/priority " + strings.ReplaceAll(strings.Join(append(names, "none"), "\\|"), "`", "'") + "`",
			"set the priority; `none` hands it back to the comment count"
	case command.Triage:
		return "`/triage`", "mark the " + kind + " as triaged"
	case command.NeedsTriage:
		if !e.cfg.NeedsTriage.Enabled || e.cfg.NeedsTriage.Label == "" {
			return "", ""
		}
		return "`/needs-triage`", "ask for triage again (" + code(e.cfg.NeedsTriage.Label) + ")"
	case command.Assign:
		return "`/assign [@user...]`", "assign people (no one named: yourself)"
	case command.Unassign:
		return "`/unassign [@user...]`", "unassign people (no one named: yourself)"
	case command.Close:
		if e.isPR() {
			return "`/close`", "close the pull request"
		}
		return "`/close [completed\\|not-planned]`", "close the issue"
	case command.Reopen:
		return "`/reopen`", "reopen the " + kind
	case command.CoC:
		return "`/coc`", "remind everyone of the code of conduct"
	case command.Notify:
		if !e.hasRoute(RouteNotifyCommand) {
			return "", ""
		}
		return "`/notify [text]`", "ask the maintainers to look"
	case command.Help:
		return "`/help`", "this list"
	case command.Why:
		return "`/why`", "explain what the bot did on this " + kind
	case command.Lifecycle:
		if !e.cfg.Lifecycle.Enabled {
			return "", ""
		}
		return "`/lifecycle frozen`", "keep the " + kind + " from ever going stale"
	case command.RemoveLifecycle:
		if !e.cfg.Lifecycle.Enabled {
			return "", ""
		}
		return "`/remove-lifecycle stale\\|frozen`", "take the stale or frozen mark off"
	case command.NotSecurity:
		if !e.cfg.Security.Enabled {
			return "", ""
		}
		return "`/not-security`", "say the " + kind + " is not a security report (label and lock come off)"
	}
	return "", ""
}

// whySection is the /why answer, read from the history once per event.
func (e *eval) whySection(ctx context.Context, c command.Command) string {
	r := e.cmd
	if r.historyDone {
		return r.history
	}
	r.historyDone = true
	if e.history == nil {
		e.problem(c, "the bot's history is not available here")
		return ""
	}
	entries, err := e.history(ctx)
	if err != nil {
		// Not the user's doing, and not worth failing the other commands for.
		e.problem(c, "the bot's history could not be read just now; try `/why` again later")
		return ""
	}
	r.history = FormatHistory(entries) + configProblems(e.cfg.Problems)
	return r.history
}

func (e *eval) section(s string) {
	if s != "" && !slices.Contains(e.cmd.sections, s) {
		e.cmd.sections = append(e.cmd.sections, s)
	}
}

// commandFeedback emits what the commands post: their comments, then one keyed reply per
// triggering comment when there is something to say, and a reaction: 👍 when every command
// ran, 😕 when one did not.
func (e *eval) commandFeedback() {
	r := e.cmd
	if r == nil {
		return
	}
	for _, a := range r.later {
		e.emit(a)
	}
	key := fmt.Sprintf("reply-%d", r.commentID)
	switch {
	case len(r.problems) > 0 || len(r.sections) > 0:
		reason := fmt.Sprintf("answer to @%s's commands", r.actor)
		if len(r.problems) > 0 {
			reason = fmt.Sprintf("@%s's %s could not run", r.actor, plural(len(r.problems), "command", "commands"))
		}
		e.emit(Action{Rule: RuleCommands, Type: Comment, Key: key, Body: e.replyBody(), Reason: reason})
	case e.action == "edited" && containsFold(e.mem.BotComments, RuleCommands+":"+key):
		// The earlier reply listed problems the edit has fixed: say so rather than leave it stale.
		e.emit(Action{Rule: RuleCommands, Type: Comment, Key: key,
			Body:   "The commands added by the latest edit of this comment ran.\n",
			Reason: fmt.Sprintf("@%s's edited commands ran", r.actor)})
	}
	content, reason := "+1", "every command in the comment ran"
	if len(r.problems) > 0 {
		content, reason = "confused", "a command in the comment was refused or invalid"
	}
	e.emit(Action{Rule: RuleCommands, Type: React, CommentID: r.commentID, Content: content, Reason: reason})
}

// replyBody is the reply to a comment's commands: the problems, then the answers.
func (e *eval) replyBody() string {
	r := e.cmd
	var parts []string
	if len(r.problems) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s, I could not run everything in your comment:\n\n", markdown.Login(r.actor))
		shown := r.problems[:min(len(r.problems), maxProblemsShown)]
		for _, p := range shown {
			b.WriteString("- " + p + "\n")
		}
		if n := len(r.problems) - len(shown); n > 0 {
			fmt.Fprintf(&b, "- … and %d more %s\n", n, plural(n, "problem", "problems"))
		}
		b.WriteString("\n" + e.advice() + "\n")
		parts = append(parts, b.String())
	}
	parts = append(parts, r.sections...)
	return strings.Join(parts, "\n")
}

// advice says what the actor may do instead, without another permission check.
func (e *eval) advice() string {
	ask := "You may ask a maintainer"
	if e.hasRoute(RouteNotifyCommand) && e.mayWithoutLookup(e.required(command.Notify)) {
		ask = "You may ask the maintainers with `/notify` and a message"
	}
	return ask + "; `/help` lists the commands you may run here."
}

// mayWithoutLookup reports whether the actor is allowed level from what is known already.
func (e *eval) mayWithoutLookup(level string) bool {
	switch {
	case level == "anyone", level == "author" && e.cmd.isAuthor:
		return true
	}
	p, ok := e.cmd.perms[strings.ToLower(e.cmd.actor)]
	if e.cmd.assoc == "OWNER" {
		p, ok = "admin", true
	}
	return ok && githubRank(p) >= needRank(level)
}

// invalidCommand explains a command the grammar could not read.
func invalidCommand(c command.Command) string {
	if errors.Is(c.Err, command.ErrUnknown) {
		msg := fmt.Sprintf("%s: there is no command `/%s`", code(c.Raw), c.Name)
		if s := closestCommand(c.Name); s != "" {
			msg += fmt.Sprintf("; did you mean `/%s`?", s)
		}
		return msg
	}
	return fmt.Sprintf("%s: %s", code(c.Raw), strings.TrimPrefix(c.Err.Error(), "/"+c.Name+": "))
}

// closestCommand is the command name within two edits of s, if one is.
func closestCommand(s string) string {
	best, bestD := "", 3
	for _, n := range command.Names() {
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (e *eval) problem(c command.Command, msg string) {
	e.cmd.problems = append(e.cmd.problems, code(c.Raw)+": "+msg)
}

// refuse records a permission refusal; what are the labels or logins concerned, if any.
func (e *eval) refuse(c command.Command, level string, what []string) {
	msg := fmt.Sprintf("`/%s` may be run by %s, and %s", c.Name, whoMay(level), e.yourAccess())
	switch c.Name {
	case command.Label, command.RemoveLabel:
		verb := "add"
		if c.Name == command.RemoveLabel {
			verb = "remove"
		}
		msg = fmt.Sprintf("only %s may %s %s here, and %s", whoMay(level), verb, codeList(what), e.yourAccess())
		if p := e.cfg.Commands.AnyoneMayLabel; len(p) > 0 {
			msg += fmt.Sprintf("; anyone may %s labels matching %s", verb, patternList(p))
		}
	case command.Assign, command.Unassign:
		msg = fmt.Sprintf("only %s may %s someone else (%s), and %s; %s may %s themselves with a bare `/%s`",
			whoMay(level), c.Name, codeList(what), e.yourAccess(), whoMay(e.required(PermissionSelfAssign)), c.Name, c.Name)
	}
	e.cmd.problems = append(e.cmd.problems, code(c.Raw)+": "+msg)
}

// whoMay names the people a permission level lets run a command.
func whoMay(level string) string {
	switch level {
	case "anyone":
		return "anyone"
	case "author":
		return "the author and people with triage access or more"
	case "triage", "write", "maintain":
		return "people with " + level + " access or more"
	case "admin":
		return "admins of the repository"
	}
	return "no one (commands.permissions names an unknown level)"
}

// yourAccess says what the actor's access was found to be.
func (e *eval) yourAccess() string {
	if e.cmd.noLookup {
		return "your access could not be checked here, so it counts as none"
	}
	p := e.cmd.perms[strings.ToLower(e.cmd.actor)]
	switch p {
	case "", "none":
		return "you have no access to the repository"
	}
	return "you have " + p + " access"
}

func patternList(patterns []string) string { return codeList(patterns) }

// codeList shows pieces of user text as code spans: `a`, `b` … and 37 more.
func codeList(list []string) string { return shownList(list, code) }

// required is the permission level commands.permissions sets for a command; a command the
// configuration does not name (a Config built in code) keeps its default.
func (e *eval) required(name string) string {
	if l, ok := e.cfg.Commands.Permissions[name]; ok {
		return l
	}
	if l, ok := DefaultConfig().Commands.Permissions[name]; ok {
		return l
	}
	return "admin"
}

// allowed reports whether the actor may run a command of this permission level. It decides from
// the payload when it can: anyone; the issue's author for author; OWNER (a user-owned
// repository's owner) is admin. Otherwise it asks Lookup for the actor's permission, once per
// event: MEMBER and COLLABORATOR say nothing about the role, and a member whose membership is
// private may show as CONTRIBUTOR or NONE. Without a Lookup (replay) the permission is none.
func (e *eval) allowed(ctx context.Context, level string) (bool, error) {
	if level == "anyone" || (level == "author" && e.cmd.isAuthor) {
		return true, nil
	}
	p, err := e.permission(ctx, e.cmd.actor)
	if err != nil {
		return false, err
	}
	return githubRank(p) >= needRank(level), nil
}

func (e *eval) permission(ctx context.Context, login string) (string, error) {
	if strings.EqualFold(login, e.cmd.actor) && e.cmd.assoc == "OWNER" {
		return "admin", nil
	}
	key := strings.ToLower(login)
	if p, ok := e.cmd.perms[key]; ok {
		return p, nil
	}
	if e.lookup == nil {
		e.cmd.noLookup = true
		e.cmd.perms[key] = "none"
		return "none", nil
	}
	p, err := e.lookup.Permission(ctx, login)
	if err != nil {
		return "", fmt.Errorf("permission of %s: %w", login, err)
	}
	p = strings.ToLower(p)
	e.cmd.perms[key] = p
	return p, nil
}

// githubRank places GitHub's permission names on the scale of permissionLevels.
func githubRank(p string) int {
	switch p {
	case "admin":
		return 5
	case "maintain":
		return 4
	case "write":
		return 3
	case "triage":
		return 2
	}
	return 0 // read, none, anything unknown
}

// needRank is the GitHub rank a level asks for (author: triage, for people other than the author).
func needRank(level string) int {
	if level == "author" {
		return 2
	}
	if i := slices.Index(permissionLevels, level); i >= 0 {
		return i
	}
	return len(permissionLevels) // an unknown level: no one
}

// kind is what the issue is, for the texts.
func (e *eval) kind() string {
	if e.isPR() {
		return "pull request"
	}
	return "issue"
}

// argText shows a label name as a command argument, quoted when it holds spaces.
func argText(name string) string {
	if strings.ContainsAny(name, " \t") {
		return `"` + name + `"`
	}
	return name
}

// cocBody is the reminder /coc posts: the conduct rule's reminder, to everyone.
func cocBody(url string) string {
	return fmt.Sprintf(`Please keep the discussion here friendly and focused on the issue. Everyone taking part in this project is expected to follow the %s.

Maintainers can see this conversation and may step in.
`, conductLink(url))
}
