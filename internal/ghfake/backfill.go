package ghfake

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// hRepository is GET /repos/{owner}/{repo}: the repository as a "full-repository" (the fields
// a webhook's repository has, which patchRepo completes, plus the counts only this answer has).
func (s *Server) hRepository(c *call) response {
	b, err := json.Marshal(s.ghRepoLocked(c.repo))
	if err != nil {
		panic(err) // our own values always marshal
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	patchRepo(m)
	fill(m, fullRepoDefaults)
	return jsonResponse(http.StatusOK, m)
}

// fullRepoDefaults are the keys GET /repos/{owner}/{repo} has beyond a webhook's repository.
var fullRepoDefaults = map[string]string{"network_count": "0", "subscribers_count": "0"}

// hListRepoIssues is GET /repos/{owner}/{repo}/issues: the repository's issues (pull requests
// would be among them), filtered by state and labels, sorted by created or updated time.
func (s *Server) hListRepoIssues(c *call) response {
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if state != "open" && state != "closed" && state != "all" {
		return validationFailed("Issue", "state", "invalid")
	}
	sortBy, dir := q.Get("sort"), q.Get("direction")
	if sortBy == "" {
		sortBy = "created"
	}
	if dir == "" {
		dir = "desc"
	}
	if (sortBy != "created" && sortBy != "updated" && sortBy != "comments") || (dir != "asc" && dir != "desc") {
		return validationFailed("Issue", "sort", "invalid")
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		want = strings.Split(l, ",")
	}
	var list []*issue
	for _, is := range c.repo.issues {
		if state != "all" && is.state != state || !c.lists(is) {
			continue
		}
		if !slices.ContainsFunc(want, func(w string) bool { return !is.hasLabel(w) }) {
			list = append(list, is)
		}
	}
	key := func(is *issue) int64 {
		switch sortBy {
		case "updated":
			return is.updated.UnixNano()
		case "comments":
			return int64(len(is.comments))
		}
		return int64(is.number) // numbers follow creation
	}
	slices.SortFunc(list, func(a, b *issue) int {
		if dir == "asc" {
			return cmp.Compare(key(a), key(b))
		}
		return cmp.Compare(key(b), key(a))
	})
	lo, hi, h := paginate(c, len(list))
	out := []json.RawMessage{}
	for _, is := range list[lo:hi] {
		out = append(out, s.issueJSONLocked(c.repo, is))
	}
	res := jsonResponse(http.StatusOK, out)
	res.header = h
	return res
}

// CreateRepository creates repo (default branch "main") without installing the App on it:
// its issues and comments send no webhooks until the App is installed (InstallApp,
// AddRepository), as on GitHub.
func (s *Server) CreateRepository(repo string) error {
	if _, _, err := splitRepo(repo); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureRepo(repo)
	return nil
}
