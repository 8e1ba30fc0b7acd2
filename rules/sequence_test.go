package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// issueLife plays GitHub for one issue: it applies the bot's actions to the issue, sends the
// bot's own resulting events back through the rules (as GitHub would), and carries the memory
// from one event to the next, as the worker does.
type issueLife struct {
	t        *testing.T
	cfg      Config
	mem      Memory
	repo     RepoMemory
	labels   []string
	comments int              // the issue's comment count, the bot's included
	keyed    map[string]int64 // keyed comments already posted → their id
	nextID   int64
	state    string
	// botEvents: GitHub's events for the bot's own changes are passed to the rules too. The
	// worker skips them, so the life must work both ways.
	botEvents bool
}

func newIssueLife(t *testing.T, cfg Config, botEvents bool) *issueLife {
	return &issueLife{t: t, cfg: cfg, keyed: map[string]int64{}, nextID: 1000, state: "open", botEvents: botEvents}
}

// issue edits a payload's issue to the current state.
func (l *issueLife) issue(i *github.Issue) {
	i.Labels = labels(l.labels...)
	i.Comments = github.Int(l.comments)
	i.State = github.String(l.state)
	i.User = user("newbie")
	i.AuthorAssociation = github.String("NONE")
	i.Assignees, i.Assignee = nil, nil
}

// run feeds one event and carries out what the rules decide.
func (l *issueLife) run(ev Event) []Action {
	l.t.Helper()
	out := evaluate(l.t, ev, l.cfg, l.mem, l.repo)
	l.mem, l.repo = out.Memory, out.Repo
	for _, a := range out.Actions {
		switch a.Type {
		case AddLabels:
			for _, name := range a.Labels {
				if !containsFold(l.labels, name) {
					l.labels = append(l.labels, name)
					l.feed(l.labelEvent("labeled", name, testBot))
				}
			}
		case RemoveLabel:
			if containsFold(l.labels, a.Label) {
				l.labels = removeFold(l.labels, a.Label)
				l.feed(l.labelEvent("unlabeled", a.Label, testBot))
			}
		case Comment:
			key := a.Rule + ":" + a.Key
			if _, ok := l.keyed[key]; ok {
				continue // edited in place
			}
			l.nextID++
			l.keyed[key] = l.nextID
			l.comments++
			l.feed(l.commentEvent("created", l.nextID, testBot, a.Body+"\n<!-- triagebot:"+key+" -->"))
		}
	}
	return out.Actions
}

// feed sends one of the bot's own events: it must trigger nothing.
func (l *issueLife) feed(ev Event) {
	l.t.Helper()
	if !l.botEvents {
		return
	}
	out := evaluate(l.t, ev, l.cfg, l.mem, l.repo)
	if len(out.Actions) > 0 {
		l.t.Fatalf("the bot's own %s event triggered %+v", ev.Name, out.Actions)
	}
	l.mem, l.repo = out.Memory, out.Repo
}

func (l *issueLife) issueEvent(action, sender string) Event {
	return issues(l.t, "opened.json", func(e *github.IssuesEvent) {
		l.issue(e.Issue)
		e.Action = github.String(action)
		e.Sender = user(sender)
	})
}

func (l *issueLife) labelEvent(action, label, sender string) Event {
	return issues(l.t, "labeled.json", func(e *github.IssuesEvent) {
		l.issue(e.Issue)
		e.Action = github.String(action)
		e.Label = &github.Label{Name: github.String(label)}
		e.Sender = user(sender)
	})
}

func (l *issueLife) commentEvent(action string, id int64, login, body string) Event {
	return comment(l.t, "created.json", func(e *github.IssueCommentEvent) {
		l.issue(e.Issue)
		e.Action = github.String(action)
		e.Comment.ID = github.Int64(id)
		e.Comment.User = user(login)
		e.Comment.Body = github.String(body)
		e.Sender = user(login)
	})
}

// human does something on GitHub: the change is made, then its event is sent.
func (l *issueLife) addLabel(label, sender string) []Action {
	l.labels = append(l.labels, label)
	return l.run(l.labelEvent("labeled", label, sender))
}

func (l *issueLife) removeLabel(label, sender string) []Action {
	l.labels = removeFold(l.labels, label)
	return l.run(l.labelEvent("unlabeled", label, sender))
}

func (l *issueLife) addComment(login string) []Action {
	l.nextID++
	l.comments++
	return l.run(l.commentEvent("created", l.nextID, login, "Same here, +1"))
}

func (l *issueLife) deleteComment(id int64, login string) []Action {
	l.comments--
	return l.run(l.commentEvent("deleted", id, login, "Same here, +1"))
}

func (l *issueLife) setState(action, state string) []Action {
	l.state = state
	return l.run(l.issueEvent(action, "maintainer"))
}

func (l *issueLife) wantLabels(step string, want ...string) {
	l.t.Helper()
	got := slices.Clone(l.labels)
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		l.t.Errorf("%s: labels (-want +got):\n%s", step, diff)
	}
}

// TestIssueLife: opened, labelled by the template, commented 1…25 with one comment deleted at
// a boundary, labelled by a maintainer, reopened, and a human removing needs-triage.
func TestIssueLife(t *testing.T) {
	for _, botEvents := range []bool{false, true} {
		t.Run(fmt.Sprintf("bot events %v", botEvents), func(t *testing.T) {
			testIssueLife(t, newIssueLife(t, DefaultConfig(), botEvents))
		})
	}
}

func testIssueLife(t *testing.T, l *issueLife) {

	// Opened by a newcomer, with the template's "bug" label already on.
	l.labels = []string{"bug"}
	got := l.run(l.issueEvent("opened", "newbie"))
	l.wantLabels("opened", "bug", "needs-triage")
	if _, ok := l.keyed["code-of-conduct:welcome"]; !ok || len(got) != 2 {
		t.Errorf("opened: actions %+v, want needs-triage and one welcome", got)
	}
	// GitHub then reports the template's label, with the author as sender: not triage.
	l.run(l.labelEvent("labeled", "bug", "newbie"))
	l.wantLabels("template label", "bug", "needs-triage")

	// Comments 1…20: the welcome comment never counts.
	wantAt := map[int][]string{
		2:  {"bug", "needs-triage"},
		3:  {"bug", "needs-triage", "priority: low"},
		9:  {"bug", "needs-triage", "priority: low"},
		10: {"bug", "needs-triage", "priority: medium"},
		19: {"bug", "needs-triage", "priority: medium"},
		20: {"bug", "needs-triage", "priority: high"},
	}
	var lastID int64
	for i := 1; i <= 20; i++ {
		l.addComment([]string{"ana", "ben", "cy"}[i%3])
		lastID = l.nextID
		if want, ok := wantAt[i]; ok {
			l.wantLabels(fmt.Sprintf("comment %d", i), want...)
		}
	}
	// One deleted at the boundary: 19 is within the hysteresis, the label stays.
	if got := l.deleteComment(lastID, "cy"); len(got) != 0 {
		t.Errorf("deleted at the boundary: %+v, want no action", got)
	}
	l.wantLabels("deleted at the boundary", "bug", "needs-triage", "priority: high")
	for i := 20; i <= 25; i++ {
		if got := l.addComment("dee"); len(got) != 0 {
			t.Errorf("comment %d: %+v, want no action (level unchanged)", i, got)
		}
	}
	l.wantLabels("25 comments", "bug", "needs-triage", "priority: high")

	// A maintainer labels it: triaged.
	got = l.addLabel("enhancement", "maintainer")
	l.wantLabels("maintainer labels it", "bug", "enhancement", "priority: high")
	if len(got) != 1 || got[0].Type != RemoveLabel || !strings.Contains(got[0].Reason, "@maintainer") {
		t.Errorf("maintainer labels it: %+v, want needs-triage removed, naming the maintainer", got)
	}

	// Closed and reopened: it needs triage again.
	l.setState("closed", "closed")
	l.setState("reopened", "open")
	l.wantLabels("reopened", "bug", "enhancement", "needs-triage", "priority: high")

	// A human removes needs-triage: the bot never puts it back on this issue.
	l.removeLabel("needs-triage", "maintainer")
	l.setState("closed", "closed")
	l.setState("reopened", "open")
	l.wantLabels("reopened after a human removed needs-triage", "bug", "enhancement", "priority: high")

	// A human sets the priority: the comment count leaves it alone from then on.
	l.removeLabel("priority: high", "maintainer")
	l.addLabel("priority: low", "maintainer")
	l.addComment("ana")
	l.wantLabels("manual priority", "bug", "enhancement", "priority: low")

	if len(l.mem.BotComments) != 1 {
		t.Errorf("memory knows %d bot comments, want 1 (the welcome)", len(l.mem.BotComments))
	}
	if diff := cmp.Diff([]string{"newbie"}, l.repo.Authors); diff != "" {
		t.Errorf("authors (-want +got):\n%s", diff)
	}
}
