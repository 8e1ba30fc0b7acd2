package ghfake

import (
	"net/http"

	"github.com/google/go-github/v60/github"
)

// lockReasons are the lock_reason values GitHub accepts.
var lockReasons = map[string]bool{"off-topic": true, "too heated": true, "resolved": true, "spam": true}

// hLock is PUT /repos/{owner}/{repo}/issues/{issue_number}/lock: 204, also when already locked.
func (s *Server) hLock(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	var req struct {
		LockReason *string `json:"lock_reason"`
	}
	if len(c.body) > 0 {
		if res, ok := decode(c, &req); !ok {
			return res
		}
	}
	if req.LockReason != nil && !lockReasons[*req.LockReason] {
		return validationFailed("Issue", "lock_reason", "invalid")
	}
	if !is.locked {
		is.locked = true
		s.touchLocked(is)
		s.issuesEventLocked(c.repo, is, "locked", s.bot(), func(*github.IssuesEvent) {})
	}
	return response{status: http.StatusNoContent}
}

// hUnlock is DELETE /repos/{owner}/{repo}/issues/{issue_number}/lock: 204, also when not locked.
func (s *Server) hUnlock(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	if is.locked {
		is.locked = false
		s.touchLocked(is)
		s.issuesEventLocked(c.repo, is, "unlocked", s.bot(), func(*github.IssuesEvent) {})
	}
	return response{status: http.StatusNoContent}
}
