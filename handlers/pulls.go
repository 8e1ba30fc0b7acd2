package handlers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// Pull request conversations. GitHub serves a pull request's labels, comments, assignees,
// state and lock through the Issues API, but checks them against the App's "Pull requests"
// permission, not "Issues" (docs.github.com/en/rest/authentication/permissions-required-for-github-apps,
// "Repository permissions for Pull requests"). An installation whose owner has not granted it
// (one installed before the App asked for it, until the owner accepts) would get 403 on every
// action there: its pull request conversations are skipped instead, and said so once.

// Grants tells what an installation granted the App; *ghapp.App implements it.
type Grants interface {
	// Granted is the installation's access to a permission ("write", "read", "" for none);
	// known is false when GitHub did not say.
	Granted(ctx context.Context, installationID int64, permission string) (access string, known bool, err error)
	// Refused records that GitHub refused a request for want of the permission.
	Refused(installationID int64, permission string)
	// RenewToken drops the installation's token: what it grants changed.
	RenewToken(installationID int64)
}

// RulePermissions is the rule of the audit note that pull request conversations are skipped.
const RulePermissions = "permissions"

// AuditPullRequestsSkipped is the action type of that note.
const AuditPullRequestsSkipped = "skip_pull_requests"

// PullRequestsSkippedMessage is the log line, once per installation, saying that its pull
// request conversations are skipped.
const PullRequestsSkippedMessage = "pull request conversations skipped: the installation has not granted the App's Pull requests permission (write)"

// pullRequestsAdvice says what to do about it, in the log and the audit note.
const pullRequestsAdvice = "the App asks for Pull requests (write) to label, comment on, assign, close and lock pull requests " +
	"through the Issues API; an organisation owner accepts it in the installation's settings " +
	"(Settings → GitHub Apps → Configure), after which pull requests are handled again"

// permPullRequests is the permission's name in GitHub's answers.
const permPullRequests = "pull_requests"

// skipNotes remembers the installations whose skipping was already said.
type skipNotes struct {
	mu    sync.Mutex
	noted map[int64]bool
}

// first reports whether inst was not noted yet, and notes it.
func (n *skipNotes) first(inst int64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.noted[inst] {
		return false
	}
	if n.noted == nil {
		n.noted = map[int64]bool{}
	}
	n.noted[inst] = true
	return true
}

func (n *skipNotes) forget(inst int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.noted, inst)
}

// onPullRequest is the comment event's issue when it is a pull request.
func onPullRequest(payload any) bool {
	ev, ok := payload.(*github.IssueCommentEvent)
	return ok && ev.GetIssue().IsPullRequest()
}

// skipPullRequest reports whether the event is on a pull request conversation of an
// installation that has not granted Pull requests (write), saying so once for the installation.
func (w *Worker) skipPullRequest(ctx context.Context, log *zap.Logger, m queue.Message, t rules.Target, payload any) (bool, error) {
	if w.cfg.Grants == nil || m.InstallationID == 0 || !onPullRequest(payload) {
		return false, nil
	}
	access, known, err := w.cfg.Grants.Granted(ctx, m.InstallationID, permPullRequests)
	if err != nil {
		return false, fmt.Errorf("permissions of installation %d: %w", m.InstallationID, err)
	}
	if !known || access == "write" {
		w.prNotes.forget(m.InstallationID)
		return false, nil
	}
	return true, w.notePullRequestsSkipped(ctx, log, m, t, access)
}

// refusedOnPullRequest handles GitHub's 403 "Resource not accessible by integration" to an
// action on a pull request (the installation's permissions changed after its token was read):
// the permission counts as not granted from now on, and the event is done.
func (w *Worker) refusedOnPullRequest(ctx context.Context, log *zap.Logger, m queue.Message, t rules.Target, payload any, execErr error) (bool, error) {
	var na interface{ NotAccessible() bool }
	if w.cfg.Grants == nil || !onPullRequest(payload) || !errors.As(execErr, &na) || !na.NotAccessible() {
		return false, nil
	}
	w.cfg.Grants.Refused(m.InstallationID, permPullRequests)
	return true, w.notePullRequestsSkipped(ctx, log, m, t, "")
}

// notePullRequestsSkipped logs, and records in the repository's audit trail, once per
// installation (per process; the audit stream's dedup keeps one note across processes) that its
// pull request conversations are skipped.
func (w *Worker) notePullRequestsSkipped(ctx context.Context, log *zap.Logger, m queue.Message, t rules.Target, access string) error {
	if !w.prNotes.first(m.InstallationID) {
		log.Debug("pull request conversation skipped: no Pull requests (write) permission")
		return nil
	}
	granted := access
	if granted == "" {
		granted = "none"
	}
	log.Warn(PullRequestsSkippedMessage, zap.String("granted", granted), zap.String("advice", pullRequestsAdvice))
	rec := AuditRecord{Time: w.cfg.Now().UTC(), DeliveryID: m.DeliveryID, Event: m.Event, Repo: t.FullName(), Result: rules.Result{
		Action: rules.Action{Rule: RulePermissions, Type: AuditPullRequestsSkipped, Repo: t.FullName(),
			Reason: fmt.Sprintf("pull request conversations are skipped: the installation granted Pull requests %q, not \"write\"; %s", granted, pullRequestsAdvice)},
		Status: rules.StatusSkipped}}
	rec.msgID = fmt.Sprintf("audit-pull-requests-skipped-%d", m.InstallationID)
	if err := w.cfg.Store.Audit(ctx, t.RepoID, 0, rec); err != nil {
		w.prNotes.forget(m.InstallationID)
		return fmt.Errorf("audit trail of %s: %w", t.FullName(), err)
	}
	return nil
}

// permissionsAccepted renews the installation's token when its owner accepted new permissions:
// a token keeps those it was issued with.
func (w *Worker) permissionsAccepted(ev *github.InstallationEvent) {
	if w.cfg.Grants == nil || ev.GetAction() != "new_permissions_accepted" {
		return
	}
	id := ev.GetInstallation().GetID()
	w.cfg.Grants.RenewToken(id)
	w.prNotes.forget(id)
}
