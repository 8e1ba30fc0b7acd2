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
	a = rules.Limit(a) // every write passes here: within GitHub's limits whoever made the action
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
	case rules.Lock, rules.Unlock, rules.EditBody:
		return x.moderate(ctx, issue, a)
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

// LabelSync is what EnsureLabels did in a repository.
type LabelSync struct {
	Created, Updated []string
	// Adopted maps a label the configuration names to the repository's existing label that
	// differs from it only by case, spaces, dashes or a status: prefix, which the bot uses
	// instead of creating a second one ("needs-triage" → "needs triage").
	Adopted map[string]string
}

// EnsureLabels makes the repository's labels match specs: a label it lacks is created (unless
// one differing only by case, spaces, dashes or a "status:"/"S:" prefix exists: that one is
// adopted), and one named by the `labels:` section whose colour or description differ is
// updated. No label is ever deleted. Call it on installation.created,
// installation_repositories.added and configuration changes.
func (e *Executor) EnsureLabels(ctx context.Context, installationID int64, owner, repo string, specs []LabelSpec) (LabelSync, error) {
	var out LabelSync
	if len(specs) == 0 {
		return out, nil
	}
	full := owner + "/" + repo
	gh := e.app.Installation(installationID)
	var have []*github.Label
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := gh.Issues.ListLabels(ctx, owner, repo, opts)
		if err != nil {
			return out, fmt.Errorf("list labels of %s: %w", full, Classify(err))
		}
		have = append(have, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	find := func(match func(string) bool) *github.Label {
		for _, l := range have {
			if match(l.GetName()) {
				return l
			}
		}
		return nil
	}
	for _, s := range specs {
		existing := find(func(n string) bool { return strings.EqualFold(n, s.Name) })
		if existing == nil {
			if existing = find(func(n string) bool { return similarLabel(n) == similarLabel(s.Name) }); existing != nil {
				if out.Adopted == nil {
					out.Adopted = map[string]string{}
				}
				out.Adopted[s.Name] = existing.GetName()
				e.log.Info("label adopted: the repository's own is used instead of creating another",
					zap.String("repo", full), zap.String("label", s.Name), zap.String("adopted", existing.GetName()))
			}
		}
		if existing != nil {
			if !s.Update || !labelDiffers(existing, s) {
				continue
			}
			if err := editLabel(ctx, gh, owner, repo, existing.GetName(), s); err != nil {
				return out, fmt.Errorf("update label %q in %s: %w", existing.GetName(), full, Classify(err))
			}
			out.Updated = append(out.Updated, existing.GetName())
			e.log.Info("label updated", zap.String("repo", full), zap.String("label", existing.GetName()))
			continue
		}
		l := &github.Label{Name: github.String(s.Name)}
		if s.Color != "" {
			l.Color = github.String(strings.TrimPrefix(s.Color, "#"))
		}
		if s.Description != "" {
			l.Description = github.String(s.Description)
		}
		created, _, err := gh.Issues.CreateLabel(ctx, owner, repo, l)
		if err != nil && !alreadyExists(err) {
			return out, fmt.Errorf("create label %q in %s: %w", s.Name, full, Classify(err))
		}
		if created == nil {
			created = l
		}
		have = append(have, created)
		out.Created = append(out.Created, s.Name)
		e.log.Info("label created", zap.String("repo", full), zap.String("label", s.Name))
	}
	return out, nil
}

// labelDiffers: the spec sets a colour or description the label does not have.
func labelDiffers(l *github.Label, s LabelSpec) bool {
	return s.Color != "" && !strings.EqualFold(l.GetColor(), strings.TrimPrefix(s.Color, "#")) ||
		s.Description != "" && l.GetDescription() != s.Description
}

// editLabel sets a label's colour and description (PATCH; go-github v60 does not escape the name).
func editLabel(ctx context.Context, gh *github.Client, owner, repo, name string, s LabelSpec) error {
	body := map[string]string{}
	if s.Color != "" {
		body["color"] = strings.TrimPrefix(s.Color, "#")
	}
	if s.Description != "" {
		body["description"] = s.Description
	}
	req, err := gh.NewRequest(http.MethodPatch, fmt.Sprintf("repos/%s/%s/labels/%s", url.PathEscape(owner), url.PathEscape(repo), url.PathEscape(name)), body)
	if err != nil {
		return &PermanentError{Err: err}
	}
	_, err = gh.Do(ctx, req, nil)
	return err
}

// alreadyExists: a 422 whose errors say already_exists (someone created the label meanwhile).
func alreadyExists(err error) bool {
	return hasErrorCode(err, http.StatusUnprocessableEntity, "already_exists")
}

// hasErrorCode reports whether err is GitHub's answer status with code among its errors.
func hasErrorCode(err error, status int, code string) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != status {
		return false
	}
	for _, e := range er.Errors {
		if e.Code == code {
			return true
		}
	}
	return false
}
