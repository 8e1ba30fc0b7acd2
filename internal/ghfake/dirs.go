package ghfake

import (
	"net/http"
	"sort"
	"strings"
)

// dirListing answers GET contents/{path} for a directory (the root when path is empty): its
// files and subdirectories, as GitHub lists them; 404 when nothing lives under path.
func (s *Server) dirListing(c *call, dir string) response {
	dir = strings.Trim(dir, "/")
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	seen := map[string]bool{}
	var out []map[string]any
	for p, f := range c.repo.files {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		rest := p[len(prefix):]
		name, _, isDir := strings.Cut(rest, "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		entry := map[string]any{"name": name, "path": prefix + name, "type": "file", "sha": f.sha,
			"html_url": c.repo.htmlURL() + "/blob/" + c.repo.defaultBranch + "/" + prefix + name}
		if isDir {
			entry["type"], entry["sha"] = "dir", ""
			entry["html_url"] = c.repo.htmlURL() + "/tree/" + c.repo.defaultBranch + "/" + prefix + name
		}
		out = append(out, entry)
	}
	if len(out) == 0 {
		return notFound()
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["name"].(string) < out[j]["name"].(string) })
	return jsonResponse(http.StatusOK, out)
}
