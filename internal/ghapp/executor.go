package ghapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// Installations gives installation clients and the App's bot user: *App implements it.
type Installations interface {
	Installation(id int64) *github.Client
	BotLogin(ctx context.Context) (string, error)
}

var _ Installations = (*App)(nil)

// Executor carries out rules.Actions on GitHub through installation clients, idempotently: a
// retried event changes nothing that its first attempt already changed.
type Executor struct {
	app Installations
	log *zap.Logger
}

// NewExecutor returns an Executor over app's installation clients. log may be nil.
func NewExecutor(app Installations, log *zap.Logger) *Executor {
	if log == nil {
		log = zap.NewNop()
	}
	return &Executor{app: app, log: log}
}

// Execute does the actions in order and returns one Result per action. The error is the first
// failure, classified (see Classify): a *RetryAfterError (Nak with that delay), an error whose
// Permanent() is true (dead-letter), or a transient one (retry with backoff). After a rate
// limit or a cancelled context the remaining actions are not attempted (failed, with detail).
func (e *Executor) Execute(ctx context.Context, t rules.Target, actions []rules.Action) ([]rules.Result, error) {
	results := make([]rules.Result, 0, len(actions))
	if len(actions) == 0 {
		return results, nil
	}
	run := &execution{e: e, t: t}
	var first error
	stop := false
	for _, a := range actions {
		if stop {
			results = append(results, rules.Result{Action: a, Status: rules.StatusFailed, Detail: "not attempted: " + first.Error()})
			continue
		}
		r, err := run.do(ctx, a)
		r.Action = a
		if err != nil {
			err = Classify(err)
			r.Status, r.Detail = rules.StatusFailed, err.Error()
			if first == nil {
				first = fmt.Errorf("%s %s on %s#%d: %w", a.Rule, a.Type, a.Repo, a.Number, err)
			}
			_, limited := queue.RetryAfter(err)
			stop = limited || ctx.Err() != nil
		}
		results = append(results, r)
	}
	return results, first
}

// execution is the state of one Execute call: what was read from GitHub is read once.
type execution struct {
	e *Executor
	t rules.Target

	gh *github.Client

	comments   map[string][]*github.IssueComment // "owner/name#number" → the issue's comments
	botLogin   string
	botLoginOK bool
}

func (x *execution) do(ctx context.Context, a rules.Action) (rules.Result, error) {
	if a.Type == rules.Notify {
		return rules.Result{Status: rules.StatusSkipped, Detail: "handled by notifications"}, nil
	}
	owner, repo := x.t.Owner, x.t.Name
	if a.Repo != "" {
		o, n, ok := splitRepo(a.Repo)
		if !ok {
			return rules.Result{}, &PermanentError{Err: fmt.Errorf("repository %q is not owner/name", a.Repo)}
		}
		owner, repo = o, n
	}
	number := a.Number
	if number == 0 {
		number = x.t.Number
	}
	if owner == "" || repo == "" || number <= 0 {
		return rules.Result{}, &PermanentError{Err: fmt.Errorf("action without an issue (%q #%d)", owner+"/"+repo, number)}
	}
	if x.t.InstallationID == 0 {
		return rules.Result{}, &PermanentError{Err: errors.New("event without an installation")}
	}
	if x.gh == nil {
		x.gh = x.e.app.Installation(x.t.InstallationID)
	}
	issue := issueRef{owner: owner, repo: repo, number: number}
	switch a.Type {
	case rules.AddLabels:
		return x.addLabels(ctx, issue, a.Labels)
	case rules.RemoveLabel:
		return x.removeLabel(ctx, issue, a.Label)
	case rules.Comment:
		return x.comment(ctx, issue, a)
	case rules.React:
		return x.react(ctx, issue, a)
	case rules.Assign:
		return x.assign(ctx, issue, a.Assignees)
	case rules.Unassign:
		return x.unassign(ctx, issue, a.Assignees)
	case rules.Close:
		return x.setState(ctx, issue, "closed", a.StateReason)
	case rules.Reopen:
		return x.setState(ctx, issue, "open", "")
	}
	x.e.log.Warn("unsupported action type", zap.String("type", string(a.Type)), zap.String("rule", a.Rule))
	return rules.Result{Status: rules.StatusSkipped, Detail: fmt.Sprintf("unsupported action type %q", a.Type)}, nil
}

type issueRef struct {
	owner, repo string
	number      int
}

func (i issueRef) String() string { return fmt.Sprintf("%s/%s#%d", i.owner, i.repo, i.number) }

func (i issueRef) path(suffix string) string {
	return fmt.Sprintf("repos/%s/%s/issues/%d%s", url.PathEscape(i.owner), url.PathEscape(i.repo), i.number, suffix)
}

// addLabels trusts GitHub's add-labels endpoint, which is idempotent: a label already on the
// issue stays as it is and costs no read.
func (x *execution) addLabels(ctx context.Context, i issueRef, labels []string) (rules.Result, error) {
	if len(labels) == 0 {
		return rules.Result{Status: rules.StatusSkipped, Detail: "no labels"}, nil
	}
	// The object form GitHub recommends (go-github v60 sends the bare array).
	req, err := x.gh.NewRequest(http.MethodPost, i.path("/labels"), map[string][]string{"labels": labels})
	if err != nil {
		return rules.Result{}, &PermanentError{Err: err}
	}
	if _, err := x.gh.Do(withNotFoundRetry(ctx), req, nil); err != nil {
		return rules.Result{}, fmt.Errorf("add labels to %s: %w", i, err)
	}
	return rules.Result{Status: rules.StatusDone}, nil
}

// removeLabel treats a 404 as "already gone": no retry, skipped.
func (x *execution) removeLabel(ctx context.Context, i issueRef, label string) (rules.Result, error) {
	if label == "" {
		return rules.Result{Status: rules.StatusSkipped, Detail: "no label"}, nil
	}
	// go-github v60 does not escape the name; labels may hold '/', '#', '?' or spaces.
	req, err := x.gh.NewRequest(http.MethodDelete, i.path("/labels/"+url.PathEscape(label)), nil)
	if err != nil {
		return rules.Result{}, &PermanentError{Err: err}
	}
	if _, err := x.gh.Do(ctx, req, nil); err != nil {
		if statusOf(err) == http.StatusNotFound {
			return rules.Result{Status: rules.StatusSkipped, Detail: "label was not on the issue"}, nil
		}
		return rules.Result{}, fmt.Errorf("remove label %q from %s: %w", label, i, err)
	}
	return rules.Result{Status: rules.StatusDone}, nil
}

// comment creates a keyed comment once and edits it in place afterwards: the issue's comments
// are listed (once per Execute) to find the bot's comment with the marker, so a retried event
// never posts twice, even if the process died between posting and acknowledging.
func (x *execution) comment(ctx context.Context, i issueRef, a rules.Action) (rules.Result, error) {
	if a.Key == "" && x.t.DeliveryID == "" {
		// Nothing to recognise a retry by: post it.
		return x.createComment(ctx, i, CommentBody(Marker(a.Rule, "unkeyed"), a.Body))
	}
	marker := Marker(a.Rule, commentKey(a, x.t.DeliveryID))
	body := CommentBody(marker, a.Body)
	existing, err := x.findMarked(ctx, i, marker)
	if err != nil {
		return rules.Result{}, err
	}
	if existing != nil {
		if sameBody(existing.GetBody(), body) {
			return rules.Result{Status: rules.StatusSkipped, Detail: "comment already posted", CommentID: existing.GetID()}, nil
		}
		edited, _, err := x.gh.Issues.EditComment(ctx, i.owner, i.repo, existing.GetID(), &github.IssueComment{Body: github.String(body)})
		if err != nil {
			return rules.Result{}, fmt.Errorf("edit comment %d on %s: %w", existing.GetID(), i, err)
		}
		existing.Body = edited.Body
		return rules.Result{Status: rules.StatusDone, Detail: "edited", CommentID: existing.GetID()}, nil
	}
	return x.createComment(ctx, i, body)
}

func (x *execution) createComment(ctx context.Context, i issueRef, body string) (rules.Result, error) {
	created, _, err := x.gh.Issues.CreateComment(withNotFoundRetry(ctx), i.owner, i.repo, i.number, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return rules.Result{}, fmt.Errorf("comment on %s: %w", i, err)
	}
	if created.User == nil {
		created.User = &github.User{Login: github.String(x.botLogin), Type: github.String("Bot")}
	}
	if cs, listed := x.comments[i.String()]; listed {
		x.comments[i.String()] = append(cs, created)
	}
	return rules.Result{Status: rules.StatusDone, Detail: "created", CommentID: created.GetID()}, nil
}

// findMarked is the bot's comment on the issue that carries marker, or nil.
func (x *execution) findMarked(ctx context.Context, i issueRef, marker string) (*github.IssueComment, error) {
	comments, err := x.listComments(ctx, i)
	if err != nil {
		return nil, err
	}
	bot := x.bot(ctx)
	for _, c := range comments {
		if !strings.Contains(c.GetBody(), marker) {
			continue
		}
		login := c.GetUser().GetLogin()
		if (bot != "" && strings.EqualFold(login, bot)) || (bot == "" && c.GetUser().GetType() == "Bot") {
			return c, nil
		}
	}
	return nil, nil
}

// bot is the App's bot user; when GitHub cannot say, comments are matched as "any bot".
func (x *execution) bot(ctx context.Context) string {
	if !x.botLoginOK {
		login, err := x.e.app.BotLogin(ctx)
		if err != nil {
			x.e.log.Warn("bot login unknown: matching comments of any bot", zap.Error(err))
		}
		x.botLogin, x.botLoginOK = login, true
	}
	return x.botLogin
}

func (x *execution) listComments(ctx context.Context, i issueRef) ([]*github.IssueComment, error) {
	if cs, ok := x.comments[i.String()]; ok {
		return cs, nil
	}
	var all []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := x.gh.Issues.ListComments(withNotFoundRetry(ctx), i.owner, i.repo, i.number, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of %s: %w", i, err)
		}
		all = append(all, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if x.comments == nil {
		x.comments = map[string][]*github.IssueComment{}
	}
	x.comments[i.String()] = all
	return all, nil
}

// react reacts to a comment; GitHub answers 200 when the reaction was already there.
func (x *execution) react(ctx context.Context, i issueRef, a rules.Action) (rules.Result, error) {
	if a.CommentID == 0 {
		return rules.Result{Status: rules.StatusSkipped, Detail: "reactions on the issue itself are not supported"}, nil
	}
	_, resp, err := x.gh.Reactions.CreateIssueCommentReaction(withNotFoundRetry(ctx), i.owner, i.repo, a.CommentID, a.Content)
	if err != nil {
		return rules.Result{}, fmt.Errorf("react %q to comment %d on %s: %w", a.Content, a.CommentID, i, err)
	}
	if resp.StatusCode == http.StatusOK {
		return rules.Result{Status: rules.StatusSkipped, Detail: "reaction already there"}, nil
	}
	return rules.Result{Status: rules.StatusDone}, nil
}

func (x *execution) assign(ctx context.Context, i issueRef, logins []string) (rules.Result, error) {
	if len(logins) == 0 {
		return rules.Result{Status: rules.StatusSkipped, Detail: "no assignees"}, nil
	}
	if _, _, err := x.gh.Issues.AddAssignees(withNotFoundRetry(ctx), i.owner, i.repo, i.number, logins); err != nil {
		return rules.Result{}, fmt.Errorf("assign %s to %s: %w", strings.Join(logins, ", "), i, err)
	}
	return rules.Result{Status: rules.StatusDone}, nil
}

func (x *execution) unassign(ctx context.Context, i issueRef, logins []string) (rules.Result, error) {
	if len(logins) == 0 {
		return rules.Result{Status: rules.StatusSkipped, Detail: "no assignees"}, nil
	}
	if _, _, err := x.gh.Issues.RemoveAssignees(withNotFoundRetry(ctx), i.owner, i.repo, i.number, logins); err != nil {
		return rules.Result{}, fmt.Errorf("unassign %s from %s: %w", strings.Join(logins, ", "), i, err)
	}
	return rules.Result{Status: rules.StatusDone}, nil
}

func (x *execution) setState(ctx context.Context, i issueRef, state, reason string) (rules.Result, error) {
	req := &github.IssueRequest{State: github.String(state)}
	if reason != "" {
		req.StateReason = github.String(reason)
	}
	if _, _, err := x.gh.Issues.Edit(withNotFoundRetry(ctx), i.owner, i.repo, i.number, req); err != nil {
		return rules.Result{}, fmt.Errorf("set %s to %s: %w", i, state, err)
	}
	return rules.Result{Status: rules.StatusDone}, nil
}

// EnsureLabels creates the labels of specs that the repository lacks (compared in any case),
// with their colour and description; labels that exist are left as the maintainers made them.
// Call it on installation.created, installation_repositories.added and configuration changes.
// It returns the names of the labels it created (for the audit trail), also when it fails.
func (e *Executor) EnsureLabels(ctx context.Context, installationID int64, owner, repo string, specs []LabelSpec) ([]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	var created []string
	gh := e.app.Installation(installationID)
	have := map[string]bool{}
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := gh.Issues.ListLabels(ctx, owner, repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list labels of %s/%s: %w", owner, repo, Classify(err))
		}
		for _, l := range page {
			have[strings.ToLower(l.GetName())] = true
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	for _, s := range specs {
		if have[strings.ToLower(s.Name)] {
			continue
		}
		l := &github.Label{Name: github.String(s.Name), Color: github.String(strings.TrimPrefix(s.Color, "#"))}
		if s.Description != "" {
			l.Description = github.String(s.Description)
		}
		_, _, err := gh.Issues.CreateLabel(ctx, owner, repo, l)
		switch {
		case err == nil:
			created = append(created, s.Name)
			e.log.Info("label created", zap.String("repo", owner+"/"+repo), zap.String("label", s.Name))
		case !alreadyExists(err):
			return created, fmt.Errorf("create label %q in %s/%s: %w", s.Name, owner, repo, Classify(err))
		}
		have[strings.ToLower(s.Name)] = true
	}
	return created, nil
}

// alreadyExists: a 422 whose errors say already_exists (someone created the label meanwhile).
func alreadyExists(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, e := range er.Errors {
		if e.Code == "already_exists" {
			return true
		}
	}
	return false
}
