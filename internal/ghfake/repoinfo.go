package ghfake

import (
	"net/http"
	"slices"
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

// contentsDir answers GET /repos/{owner}/{repo}/contents/{path} for a directory: its entries,
// files and subdirectories, by name; 404 when nothing is under it.
func (s *Server) contentsDir(c *call, dir string) response {
	dir = strings.Trim(dir, "/")
	prefix := dir + "/"
	if dir == "" {
		prefix = ""
	}
	seen := map[string]bool{}
	var entries []map[string]any
	var paths []string
	for p := range c.repo.files {
		if strings.HasPrefix(p, prefix) {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		rest := strings.TrimPrefix(p, prefix)
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		path := prefix + name
		self := c.repo.apiURL() + "/contents/" + path + "?ref=" + c.repo.defaultBranch
		html := c.repo.htmlURL() + "/blob/" + c.repo.defaultBranch + "/" + path
		e := map[string]any{"name": name, "path": path, "url": self, "html_url": html}
		if isDir {
			sha := fakeSHA(c.repo.fullName() + ":" + path)
			git := c.repo.apiURL() + "/git/trees/" + sha
			e["type"], e["size"], e["sha"], e["git_url"], e["download_url"] = "dir", 0, sha, git, nil
			e["_links"] = map[string]any{"self": self, "git": git, "html": html}
		} else {
			f := c.repo.files[p]
			git := c.repo.apiURL() + "/git/blobs/" + f.sha
			e["type"], e["size"], e["sha"], e["git_url"] = "file", len(f.content), f.sha, git
			e["download_url"] = "https://raw.githubusercontent.com/" + c.repo.fullName() + "/" + c.repo.defaultBranch + "/" + path
			e["_links"] = map[string]any{"self": self, "git": git, "html": html}
		}
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return notFound()
	}
	return jsonResponse(http.StatusOK, entries)
}
