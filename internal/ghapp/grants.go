package ghapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-github/v60/github"
)

// What an installation granted the App. GitHub says it in every installation token answer
// (POST /app/installations/{id}/access_tokens, "permissions"), which ghinstallation asks for
// anyway: the grants are read from those answers as they pass, so knowing them costs no request
// of its own. (ghinstallation's Transport.Permissions gives the same map, but reads its token
// without the lock its refresh writes under, and in go-github v88's types.) A token keeps the
// permissions it was issued with, so the grants are the current token's: the ones its requests
// are checked against.

// grant is the permissions of an installation's current token.
type grant struct {
	mu    sync.Mutex
	perms map[string]string // nil until a token answer was seen
}

func (gr *grant) get() (map[string]string, bool) {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	return gr.perms, gr.perms != nil
}

func (gr *grant) set(perms map[string]string) {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	gr.perms = perms
}

// tokenAnswers reads the permissions out of the token answers that pass through it.
type tokenAnswers struct {
	next  http.RoundTripper
	grant *grant
}

// maxTokenAnswer bounds what is read of a token answer (it lists the repositories of a token
// scoped to some; the App's tokens are not).
const maxTokenAnswer = 1 << 20

func (t tokenAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/access_tokens") ||
		resp.StatusCode != http.StatusCreated || resp.Body == nil {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswer))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil // ghinstallation decodes what was read and reports the problem
	}
	var answer struct {
		Permissions map[string]string `json:"permissions"`
	}
	if json.Unmarshal(body, &answer) == nil && answer.Permissions != nil {
		t.grant.set(answer.Permissions)
	}
	return resp, nil
}

// Granted is an installation's access to a permission ("write", "read", or "" for none) as its
// current token has it; known is false when GitHub's answer listed no permissions. Without a
// token yet, one is fetched by a request that costs no rate limit (GET /rate_limit).
func (a *App) Granted(ctx context.Context, installationID int64, permission string) (access string, known bool, err error) {
	c := a.installation(installationID)
	gr := c.grant
	perms, ok := gr.get()
	if !ok {
		if _, _, err := c.gh.RateLimit.Get(ctx); err != nil {
			return "", false, fmt.Errorf("installation %d's token: %w", installationID, Classify(err))
		}
		if perms, ok = gr.get(); !ok {
			return "", false, nil
		}
	}
	return perms[permission], true, nil
}

// Refused records that GitHub refused the installation's token a request for want of
// permission (403 "Resource not accessible by integration"): until the token is renewed, the
// permission counts as not granted.
func (a *App) Refused(installationID int64, permission string) {
	gr := a.installation(installationID).grant
	perms, _ := gr.get()
	perms = maps.Clone(perms)
	if perms == nil {
		perms = map[string]string{}
	}
	delete(perms, permission)
	gr.set(perms)
}

// RenewToken drops the installation's token, so the next request gets a new one: the
// permissions the installation grants changed (installation.new_permissions_accepted), and a
// token keeps the ones it was issued with.
func (a *App) RenewToken(installationID int64) {
	if c, ok := a.installations.Get(installationID); ok {
		c.grant.set(nil)
		c.rt.renewFrom(c.rt.current())
	}
}

// notAccessible is GitHub's message when an installation token lacks the permission a request
// needs.
const notAccessible = "Resource not accessible by integration"

// NotAccessibleError is a 403 "Resource not accessible by integration": the installation has
// not granted the App the permission the request needs. Retrying cannot help.
type NotAccessibleError struct{ Err error }

func (e *NotAccessibleError) Error() string { return e.Err.Error() }
func (e *NotAccessibleError) Unwrap() error { return e.Err }

// Permanent reports true.
func (e *NotAccessibleError) Permanent() bool { return true }

// NotAccessible reports true: the worker recognises the class by this method.
func (e *NotAccessibleError) NotAccessible() bool { return true }

// notAccessibleErr recognises GitHub's answer to a token without the permission needed.
func notAccessibleErr(err error) (error, bool) {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden && er.Message == notAccessible {
		return &NotAccessibleError{Err: &PermanentError{Status: http.StatusForbidden, Err: err}}, true
	}
	return nil, false
}
