package rules

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Event is one GitHub webhook event: its X-GitHub-Event name and the payload decoded by
// go-github's ParseWebHook (*github.IssuesEvent, *github.IssueCommentEvent, ...).
type Event struct {
	Name       string
	DeliveryID string
	Payload    any
}

// Lookup gives the rules read-only access to state the payload cannot give. The worker backs
// it with GitHub (each answer fetched at most once per event); tests use a plain struct.
type Lookup interface {
	// CodeOfConductURL is the repository's (else the organisation's) CODE_OF_CONDUCT.md, or "".
	CodeOfConductURL(ctx context.Context) (string, error)
	// Permission is the user's permission on the repository: admin, maintain, write, triage, read or none.
	Permission(ctx context.Context, login string) (string, error)
}

// Input is everything a decision may depend on.
type Input struct {
	Event    Event
	Config   Config
	Memory   Memory     // the bot's memory of this issue
	Repo     RepoMemory // the bot's memory of this repository
	BotLogin string     // the App's bot user, e.g. "triagebot[bot]": its events trigger nothing
	Lookup   Lookup     // may be nil: rules then act on the payload alone
	// History is what the bot did on this issue, from the audit stream, for /why. May be nil:
	// /why then answers that the history is unavailable.
	History func(ctx context.Context) ([]HistoryEntry, error)
	// Explain, when set, is told in words why each rule that looked at the event did not act
	// (replay --explain). Rules that act say why in their actions' reasons.
	Explain func(rule, why string)
}

// Outcome is the decision: the actions, and the memory as it should be once they are done.
type Outcome struct {
	Actions []Action
	Memory  Memory
	Repo    RepoMemory
}

// The rule names actions carry.
const (
	RuleNeedsTriage   = "needs-triage"
	RulePriority      = "priority"
	RuleCodeOfConduct = "code-of-conduct"
	RuleNotify        = "notify"
)

// Evaluate decides what the bot does about one event. Events the bot itself caused (sender
// equal to BotLogin, any case) and events of no issue produce no actions. The memory records
// what the bot does when it decides it, so a worker may skip the bot's own events altogether;
// when it passes them, they only refine the memory (a bot comment's id, a label gone). An error
// comes only from Lookup; the Outcome then carries the input's memory and no actions.
func Evaluate(ctx context.Context, in Input) (Outcome, error) {
	e := newEval(in)
	if e.issue == nil {
		for _, r := range Rules {
			e.skip(r, "%s events concern no issue", in.Event.Name)
		}
		return Outcome{Memory: in.Memory, Repo: in.Repo}, nil
	}
	e.remember()
	if e.fromBot {
		for _, r := range Rules {
			e.skip(r, "the event was caused by the bot itself (%s)", e.sender)
		}
		return Outcome{Memory: e.mem, Repo: e.repoMem}, nil
	}
	// Order matters: priority scores the comments as they stand before any comment this event
	// makes the bot post (conduct), which is remembered as the bot's own when emitted.
	// Commands run before priority, so a /priority decides before the comment count does; their
	// comments (replies, /coc) come after it, like conduct's.
	e.needsTriage()
	e.lifecycle()
	if err := e.security(ctx); err != nil {
		return Outcome{Memory: in.Memory, Repo: in.Repo}, err
	}
	if err := e.commands(ctx); err != nil {
		return Outcome{Memory: in.Memory, Repo: in.Repo}, err
	}
	e.priority()
	e.commandFeedback()
	if err := e.conduct(ctx); err != nil {
		return Outcome{Memory: in.Memory, Repo: in.Repo}, err
	}
	e.announce()
	return Outcome{Actions: e.actions, Memory: e.mem, Repo: e.repoMem}, nil
}

// eval is the working state of one Evaluate call: the event seen through the fields the rules
// use, the memory being updated, and the actions decided so far. Rules (and, later, commands)
// are its methods.
type eval struct {
	ctx      context.Context
	cfg      Config
	botLogin string
	lookup   Lookup
	history  func(ctx context.Context) ([]HistoryEntry, error)
	explain  func(rule, why string)
	mem      Memory
	priorBot []string // the bot's comments remembered from earlier events
	repoMem  RepoMemory
	actions  []Action

	event      string // X-GitHub-Event
	deliveryID string
	action     string // the payload's action
	issue      *github.Issue
	comment    *github.IssueComment // issue_comment events
	label      string               // issues.labeled / unlabeled
	assignee   string               // issues.assigned / unassigned
	changes    *github.EditChange
	repo       string // owner/name
	number     int
	sender     string
	senderType string   // User or Bot
	author     string   // the issue's author
	labels     []string // the issue's labels once this event is applied
	fromBot    bool

	firstIssue bool // the issue's author had not opened an issue here before (RepoMemory)

	cocURL     string // resolved once per event
	cocURLDone bool

	cmd *commandRun // the comment's commands, when it has some
}

func newEval(in Input) *eval {
	e := &eval{cfg: in.Config, botLogin: in.BotLogin, lookup: in.Lookup, history: in.History, explain: in.Explain, event: in.Event.Name, deliveryID: in.Event.DeliveryID}
	switch ev := in.Event.Payload.(type) {
	case *github.IssuesEvent:
		if ev == nil {
			return e
		}
		e.event = "issues"
		e.action = ev.GetAction()
		e.issue = ev.Issue
		e.label = ev.GetLabel().GetName()
		e.assignee = ev.GetAssignee().GetLogin()
		e.changes = ev.Changes
		e.repo = ev.GetRepo().GetFullName()
		e.sender = ev.GetSender().GetLogin()
		e.senderType = ev.GetSender().GetType()
	case *github.IssueCommentEvent:
		if ev == nil {
			return e
		}
		e.event = "issue_comment"
		e.action = ev.GetAction()
		e.issue = ev.Issue
		e.comment = ev.Comment
		e.changes = ev.Changes
		e.repo = ev.GetRepo().GetFullName()
		e.sender = ev.GetSender().GetLogin()
		e.senderType = ev.GetSender().GetType()
	}
	if e.issue == nil {
		return e
	}
	e.mem = in.Memory.clone()
	e.priorBot = in.Memory.BotComments
	e.repoMem = in.Repo.clone()
	e.number = e.issue.GetNumber()
	e.author = e.issue.GetUser().GetLogin()
	e.fromBot = e.botLogin != "" && strings.EqualFold(e.sender, e.botLogin)
	for _, l := range e.issue.Labels {
		e.labels = addFold(e.labels, l.GetName())
	}
	switch {
	case e.action == "labeled" && e.label != "":
		e.labels = addFold(e.labels, e.label)
	case e.action == "unlabeled" && e.label != "":
		e.labels = removeFold(e.labels, e.label)
	}
	return e
}

// remember updates the memory with the facts of the event, before any rule reads it.
func (e *eval) remember() {
	switch {
	case e.event == "issues" && e.action == "opened":
		author := strings.ToLower(e.author)
		first, claimed := e.repoMem.FirstIssues[author]
		// A retry of the event that recorded the author finds its own issue there.
		e.firstIssue = !containsFold(e.repoMem.Authors, author) || (claimed && first == e.number)
		e.repoMem.Authors = addFold(e.repoMem.Authors, author)
		if e.firstIssue && !claimed && author != "" {
			if e.repoMem.FirstIssues == nil {
				e.repoMem.FirstIssues = map[string]int{}
			}
			e.repoMem.FirstIssues[author] = e.number
		}
		e.mem.OpenedLabels = append([]string(nil), e.labels...)
		e.mem.OpenedAssignees = nil
		for _, a := range e.issue.Assignees {
			e.mem.OpenedAssignees = addFold(e.mem.OpenedAssignees, a.GetLogin())
		}
		// An issue is opened once: a memory that says it was triaged means a maintainer's
		// triage was handled first and this opened event arrives late (redelivered after the
		// bot was down). Triage stands.
		e.mem.OpenedAt = e.issue.GetCreatedAt().Time
	case e.event == "issues" && e.action == "reopened":
		e.mem.Triaged = false
		e.mem.OpenedAt = e.issue.GetUpdatedAt().Time
	case e.event == "issues" && e.action == "labeled" && e.label != "":
		if e.fromBot {
			e.mem.BotLabels = addFold(e.mem.BotLabels, e.label)
			break
		}
		e.mem.HumanAdded = addFold(e.mem.HumanAdded, e.label)
		e.mem.HumanRemoved = removeFold(e.mem.HumanRemoved, e.label)
		e.mem.BotLabels = removeFold(e.mem.BotLabels, e.label)
		if e.levelIndex(e.label) >= 0 {
			e.mem.PriorityManual = true
		}
	case e.event == "issues" && e.action == "unlabeled" && e.label != "":
		e.mem.BotLabels = removeFold(e.mem.BotLabels, e.label)
		if e.fromBot {
			break
		}
		e.mem.HumanRemoved = addFold(e.mem.HumanRemoved, e.label)
		e.mem.HumanAdded = removeFold(e.mem.HumanAdded, e.label)
		if e.levelIndex(e.label) >= 0 {
			e.mem.PriorityManual = true
		}
	case e.event == "issue_comment" && e.comment != nil:
		e.rememberComment()
	}
}

func (e *eval) rememberComment() {
	login := strings.ToLower(e.comment.GetUser().GetLogin())
	byBot := e.botLogin != "" && strings.EqualFold(login, e.botLogin)
	human := !byBot && login != "" && e.comment.GetUser().GetType() != "Bot"
	switch e.action {
	case "created":
		if byBot {
			key := botCommentKey(e.comment)
			e.mem.BotComments = addFold(e.mem.BotComments, key)
			if id := e.comment.GetID(); id != 0 && !strings.HasPrefix(key, "id:") {
				if e.mem.BotCommentIDs == nil {
					e.mem.BotCommentIDs = map[string]int64{}
				}
				if _, seen := e.mem.BotCommentIDs[key]; !seen {
					e.mem.BotCommentIDs[key] = id
				}
			}
			return
		}
		if human {
			if e.mem.Commenters == nil {
				e.mem.Commenters = map[string]int{}
			}
			e.mem.Commenters[login]++
		}
	case "deleted":
		if byBot {
			e.mem.BotComments = removeFold(e.mem.BotComments, botCommentKey(e.comment))
			e.mem.BotComments = removeFold(e.mem.BotComments, fmt.Sprintf("id:%d", e.comment.GetID()))
			return
		}
		if human && e.mem.Commenters[login] > 0 {
			e.mem.Commenters[login]--
			if e.mem.Commenters[login] == 0 {
				delete(e.mem.Commenters, login)
			}
		}
	}
}

// commentMarker is the hidden marker the executor puts in every bot comment (DESIGN.md §6).
var commentMarker = regexp.MustCompile(`<!-- triagebot:([^:\s]+):(\S*) -->`)

// botCommentKey identifies one of the bot's comments: by its marker, else by its id.
func botCommentKey(c *github.IssueComment) string {
	if m := commentMarker.FindStringSubmatch(c.GetBody()); m != nil {
		return m[1] + ":" + m[2]
	}
	return fmt.Sprintf("id:%d", c.GetID())
}

// emit records an action on this issue. A comment is remembered as the bot's own at once.
func (e *eval) emit(a Action) {
	if e.cmd == nil || !e.cmd.merging || (a.Type != AddLabels && a.Type != RemoveLabel) {
		a = Limit(a) // label actions of commands are limited once merged (mergeLabelActions)
	}
	a.Repo = e.repo
	a.Number = e.number
	e.actions = append(e.actions, a)
	if a.Type == Comment {
		key := a.Rule + ":" + a.Key
		if a.Key == "" {
			key = fmt.Sprintf("%s:%s-%d", a.Rule, e.deliveryID, len(e.actions))
		}
		e.mem.BotComments = addFold(e.mem.BotComments, key)
	}
}

func (e *eval) isPR() bool { return e.issue.IsPullRequest() }

func (e *eval) hasLabel(name string) bool { return containsFold(e.labels, name) }

// maintainerAssociations are the author associations of people who can label and assign.
func isMaintainer(association string) bool {
	switch strings.ToUpper(association) {
	case "OWNER", "MEMBER", "COLLABORATOR":
		return true
	}
	return false
}
