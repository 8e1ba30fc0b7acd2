package ghfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"

	"github.com/google/go-github/v60/github"
)

// Pull requests and the installation's permissions.
//
// GitHub serves the labels, comments, assignees, state and lock of a pull request through the
// Issues API, but checks them against the App's "Pull requests" permission, not "Issues"
// (docs.github.com/en/rest/authentication/permissions-required-for-github-apps, "Repository
// permissions for Pull requests"; "Endpoints that allow operations on both issues and pull
// requests will be restricted to issues" for an App with the Issues permission only). An
// installation keeps the permissions its owner accepted: an App that asks for more later gets
// them only once the owner accepts. The fake answers such a request as GitHub does: 403
// "Resource not accessible by integration".

// DefaultPermissions are the permissions an installation grants unless told otherwise: those
// deploy/github-app-manifest.json asks for.
func DefaultPermissions() map[string]string {
	return map[string]string{"issues": "write", "pull_requests": "write", "contents": "read", "metadata": "read", "members": "read"}
}

// notAccessible is GitHub's answer to an installation token without the permission needed.
func notAccessible() response {
	return jsonResponse(http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration",
		"documentation_url": docsURL, "status": "403"})
}

// SetInstallationPermissions sets the permissions an installation granted, as when its owner
// has not accepted a permission the App asks for (GitHub sends no webhook then). Tokens issued
// afterwards carry them; tokens issued before keep theirs until they expire.
func (s *Server) SetInstallationPermissions(installationID int64, perms map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.grantLocked(installationID, perms)
	return err
}

// AcceptPermissions sets the permissions an installation granted and sends
// installation.new_permissions_accepted, as when its owner accepts what the App asks for.
func (s *Server) AcceptPermissions(installationID int64, perms map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, err := s.grantLocked(installationID, perms)
	if err != nil {
		return err
	}
	ev := &github.InstallationEvent{Action: ptr("new_permissions_accepted"), Sender: s.ghUserLocked(in.account),
		Installation: s.ghFullInstallationLocked(in)}
	s.enqueueLocked("installation", "new_permissions_accepted", in.id, 0, ev)
	return nil
}

func (s *Server) grantLocked(installationID int64, perms map[string]string) (*installation, error) {
	in, ok := s.installs[installationID]
	if !ok {
		return nil, fmt.Errorf("ghfake: no installation %d", installationID)
	}
	in.perms = maps.Clone(perms)
	s.signalLocked()
	return in, nil
}

// ghPermissions converts a permission map to go-github's type.
func ghPermissions(perms map[string]string) *github.InstallationPermissions {
	var out github.InstallationPermissions
	b, _ := json.Marshal(perms)
	_ = json.Unmarshal(b, &out) // a map of strings always fits
	return &out
}

// OpenPullRequest opens a pull request as user. It takes the repository's next issue number, and
// no webhook is sent: the App is subscribed to issues, issue_comment and push, not pull_request.
// Comments on it (Comment) send issue_comment events whose issue carries a pull_request object.
func (s *Server) OpenPullRequest(repo, user, title, body string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, is, err := s.newIssueLocked(repo, user, title, body)
	if err != nil {
		return 0, err
	}
	is.pull = true
	s.signalLocked()
	return is.number, nil
}

// permitted answers 403 unless the call's token may do its method on is: the "issues"
// permission covers issues, "pull_requests" covers pull requests; reads need read or write,
// everything else write.
func (c *call) permitted(is *issue) (response, bool) {
	kind := "issues"
	if is.pull {
		kind = "pull_requests"
	}
	switch have := c.perms[kind]; {
	case have == "write", have == "read" && (c.r.Method == http.MethodGet || c.r.Method == http.MethodHead):
		return response{}, true
	}
	return notAccessible(), false
}

// lists reports whether the call's token may see is in a list (pull requests are left out of
// an issue list for a token without the Pull requests permission).
func (c *call) lists(is *issue) bool {
	if is.pull {
		return c.perms["pull_requests"] != ""
	}
	return c.perms["issues"] != ""
}
