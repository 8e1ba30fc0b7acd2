package ghfake

import (
	"net/http"
	"strings"
)

// hRepoInstallation is GET /repos/{owner}/{repo}/installation (App JWT): the installation that
// has the repository, 404 when none has it.
func (s *Server) hRepoInstallation(c *call) response {
	r, ok := s.repos[strings.ToLower(c.params["owner"]+"/"+c.params["repo"])]
	if !ok || r.installationID == 0 || !s.installs[r.installationID].repos[r.id] {
		return notFound()
	}
	in := withNulls(s.ghFullInstallationLocked(s.installs[r.installationID]), "single_file_name", "suspended_by", "suspended_at")
	return response{status: http.StatusOK, body: in}
}
