package ghfake

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
)

// hInstallationRepositories is GET /installation/repositories (installation token): the
// repositories the installation can access, paginated, in GitHub's shape
// {"total_count", "repositories", "repository_selection"}.
func (s *Server) hInstallationRepositories(c *call) response {
	in := s.installs[c.inst]
	var list []*repo
	for _, r := range s.repos {
		if in.repos[r.id] && r.installationID == in.id {
			list = append(list, r)
		}
	}
	slices.SortFunc(list, func(a, b *repo) int { return cmp.Compare(a.id, b.id) })
	lo, hi, h := paginate(c, len(list))
	repos := []json.RawMessage{}
	for _, r := range list[lo:hi] {
		repos = append(repos, s.repoJSONLocked(r))
	}
	res := jsonResponse(http.StatusOK, map[string]any{"total_count": len(list), "repositories": repos, "repository_selection": "selected"})
	res.header = h
	return res
}

// repoJSONLocked is a full repository object, as GitHub's listings of repositories return it.
func (s *Server) repoJSONLocked(r *repo) json.RawMessage {
	return patched(s.ghRepoLocked(r), patchRepo)
}
