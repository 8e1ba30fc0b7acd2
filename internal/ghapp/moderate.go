package ghapp

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v60/github"

	"github.com/triagebot/triagebot/rules"
)

// moderate locks or unlocks an issue's conversation, or replaces its body (the security-report
// guard). All three are idempotent on GitHub: locking a locked issue, unlocking an unlocked one
// (204 both) or writing the same body again change nothing.
func (x *execution) moderate(ctx context.Context, i issueRef, a rules.Action) (rules.Result, error) {
	switch a.Type {
	case rules.Lock:
		var body any
		if a.LockReason != "" {
			body = map[string]string{"lock_reason": a.LockReason}
		}
		req, err := x.gh.NewRequest(http.MethodPut, i.path("/lock"), body)
		if err != nil {
			return rules.Result{}, &PermanentError{Err: err}
		}
		if _, err := x.gh.Do(withNotFoundRetry(ctx), req, nil); err != nil {
			return rules.Result{}, fmt.Errorf("lock %s: %w", i, err)
		}
	case rules.Unlock:
		req, err := x.gh.NewRequest(http.MethodDelete, i.path("/lock"), nil)
		if err != nil {
			return rules.Result{}, &PermanentError{Err: err}
		}
		if _, err := x.gh.Do(ctx, req, nil); err != nil {
			if statusOf(err) == http.StatusNotFound {
				return rules.Result{Status: rules.StatusSkipped, Detail: "not locked"}, nil
			}
			return rules.Result{}, fmt.Errorf("unlock %s: %w", i, err)
		}
	case rules.EditBody:
		if _, _, err := x.gh.Issues.Edit(withNotFoundRetry(ctx), i.owner, i.repo, i.number, &github.IssueRequest{Body: github.String(a.Body)}); err != nil {
			return rules.Result{}, fmt.Errorf("edit the body of %s: %w", i, err)
		}
	}
	return rules.Result{Status: rules.StatusDone}, nil
}
