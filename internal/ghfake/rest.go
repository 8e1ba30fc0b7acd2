package ghfake

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
)

func (s *Server) buildRoutes() []*route {
	var rs []*route
	const issue = "/repos/{owner}/{repo}/issues/{issue_number}"
	s.addRoute(&rs, "POST", "/app/installations/{installation_id}/access_tokens", s.hCreateToken, "app", "free")
	s.addRoute(&rs, "GET", "/app", s.hGetApp, "app")
	s.addRoute(&rs, "GET", "/app/hook/deliveries", s.hListDeliveries, "app")
	s.addRoute(&rs, "POST", "/app/hook/deliveries/{delivery_id}/attempts", s.hRedeliver, "app")
	s.addRoute(&rs, "GET", "/rate_limit", s.hRateLimit, "free")
	s.addRoute(&rs, "POST", "/app-manifests/{code}/conversions", s.hConvertManifest, "public", "free")
	s.addRoute(&rs, "GET", "/repos/{owner}/{repo}/installation", s.hRepoInstallation, "app")
	s.addRoute(&rs, "GET", "/installation/repositories", s.hInstallationRepositories)
	s.addRoute(&rs, "GET", "/repos/{owner}/{repo}", s.hRepository)
	s.addRoute(&rs, "GET", "/repos/{owner}/{repo}/issues", s.hListRepoIssues)
	s.addRoute(&rs, "GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", s.hPermission)
	s.addRoute(&rs, "GET", "/repos/{owner}/{repo}/contents/{path}", s.hContents)
	s.addRoute(&rs, "GET", "/repos/{owner}/{repo}/contents/", s.hContents)
	s.addRoute(&rs, "GET", "/repos/{owner}/{repo}/community/profile", s.hCommunityProfile)
	s.addRoute(&rs, "PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", s.hUpdateComment)
	s.addRoute(&rs, "POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", s.hReact)
	s.addRoute(&rs, "GET", issue, s.hGetIssue)
	s.addRoute(&rs, "PATCH", issue, s.hUpdateIssue)
	s.addRoute(&rs, "POST", issue+"/assignees", s.hAddAssignees)
	s.addRoute(&rs, "DELETE", issue+"/assignees", s.hRemoveAssignees)
	s.addRoute(&rs, "GET", issue+"/comments", s.hListComments)
	s.addRoute(&rs, "POST", issue+"/comments", s.hCreateComment)
	s.addRoute(&rs, "GET", issue+"/labels", s.hListIssueLabels)
	s.addRoute(&rs, "POST", issue+"/labels", s.hAddLabels)
	s.addRoute(&rs, "PUT", issue+"/labels", s.hSetLabels)
	s.addRoute(&rs, "DELETE", issue+"/labels/{name}", s.hRemoveLabel)
	s.addRoute(&rs, "PUT", issue+"/lock", s.hLock)
	s.addRoute(&rs, "DELETE", issue+"/lock", s.hUnlock)
	s.addRoute(&rs, "GET", "/repos/{owner}/{repo}/labels", s.hListRepoLabels)
	s.addRoute(&rs, "POST", "/repos/{owner}/{repo}/labels", s.hCreateLabel)
	s.addRoute(&rs, "PATCH", "/repos/{owner}/{repo}/labels/{name}", s.hUpdateLabel)
	return rs
}

func (s *Server) bot() string { return s.BotLogin() }

func (s *Server) callIssue(c *call) (*issue, response, bool) {
	n, ok := pathInt(c, "issue_number")
	if !ok || n > 1<<31 {
		return nil, notFound(), false
	}
	is, exists := c.repo.issues[int(n)]
	if !exists {
		return nil, notFound(), false
	}
	if res, ok := c.permitted(is); !ok {
		return nil, res, false
	}
	return is, response{}, true
}

func decode(c *call, v any) (response, bool) {
	if err := json.Unmarshal(c.body, v); err != nil {
		return errorResponse(http.StatusBadRequest, "Problems parsing JSON"), false
	}
	return response{}, true
}

func (s *Server) hGetIssue(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	return jsonResponse(http.StatusOK, s.issueJSONLocked(c.repo, is))
}

func (s *Server) hUpdateIssue(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	var req struct {
		Title       *string   `json:"title"`
		Body        *string   `json:"body"`
		State       *string   `json:"state"`
		StateReason *string   `json:"state_reason"`
		Labels      *[]string `json:"labels"`
		Assignees   *[]string `json:"assignees"`
	}
	if res, ok := decode(c, &req); !ok {
		return res
	}
	if req.State != nil && *req.State != "open" && *req.State != "closed" {
		return validationFailed("Issue", "state", "invalid")
	}
	if req.StateReason != nil && !stateReasons[*req.StateReason] {
		return validationFailed("Issue", "state_reason", "invalid")
	}
	s.editIssueLocked(c.repo, is, req.Title, req.Body, s.bot())
	if req.State != nil {
		reason := ""
		if req.StateReason != nil {
			reason = *req.StateReason
		}
		if err := s.setStateLocked(c.repo, is, *req.State, reason, s.bot()); err != nil {
			return validationFailed("Issue", "state_reason", "invalid")
		}
	} else if req.StateReason != nil && is.state == "closed" && *req.StateReason != "reopened" {
		is.stateReason = *req.StateReason
	}
	if req.Labels != nil {
		s.setLabelsLocked(c.repo, is, *req.Labels)
	}
	if req.Assignees != nil {
		for _, a := range slices.Clone(is.assignees) {
			if !slices.ContainsFunc(*req.Assignees, func(x string) bool { return strings.EqualFold(x, a) }) {
				s.unassignLocked(c.repo, is, a, s.bot())
			}
		}
		for _, a := range *req.Assignees {
			s.assignLocked(c.repo, is, a, s.bot())
		}
	}
	return jsonResponse(http.StatusOK, s.issueJSONLocked(c.repo, is))
}

// labelNames accepts every body form GitHub's add/set labels operations take.
func labelNames(body []byte) ([]string, bool) {
	var wrapped struct {
		Labels json.RawMessage `json:"labels"`
	}
	raw := json.RawMessage(body)
	if err := json.Unmarshal(body, &wrapped); err == nil && wrapped.Labels != nil {
		raw = wrapped.Labels
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, true
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false
	}
	names := make([]string, 0, len(items))
	for _, it := range items {
		var name string
		if err := json.Unmarshal(it, &name); err == nil {
			names = append(names, name)
			continue
		}
		var obj struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(it, &obj); err != nil || obj.Name == "" {
			return nil, false
		}
		names = append(names, obj.Name)
	}
	return names, true
}

func (s *Server) issueLabelsJSONLocked(r *repo, is *issue, names []string) json.RawMessage {
	out := make([]*github.Label, 0, len(names))
	for _, n := range names {
		out = append(out, s.ghLabelLocked(r, s.labelForLocked(r, n)))
	}
	b, _ := json.Marshal(out)
	return b
}

func (s *Server) hListIssueLabels(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	lo, hi, h := paginate(c, len(is.labels))
	res = jsonResponse(http.StatusOK, s.issueLabelsJSONLocked(c.repo, is, is.labels[lo:hi]))
	res.header = h
	return res
}

func (s *Server) hAddLabels(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	names, ok := labelNames(c.body)
	if !ok {
		return validationFailed("Label", "labels", "invalid")
	}
	for _, n := range names {
		if strings.TrimSpace(n) == "" {
			return validationFailed("Label", "name", "missing_field")
		}
	}
	if len(mergedLabels(is.labels, names)) > maxIssueLabels {
		return validationFailed("Label", "labels", "custom")
	}
	for _, n := range names {
		s.addLabelLocked(c.repo, is, n, s.bot())
	}
	return jsonResponse(http.StatusOK, s.issueLabelsJSONLocked(c.repo, is, is.labels))
}

func (s *Server) setLabelsLocked(r *repo, is *issue, names []string) {
	for _, l := range slices.Clone(is.labels) {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, l) }) {
			s.removeLabelLocked(r, is, l, s.bot())
		}
	}
	for _, n := range names {
		s.addLabelLocked(r, is, n, s.bot())
	}
}

func (s *Server) hSetLabels(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	names, ok := labelNames(c.body)
	if !ok {
		return validationFailed("Label", "labels", "invalid")
	}
	s.setLabelsLocked(c.repo, is, names)
	return jsonResponse(http.StatusOK, s.issueLabelsJSONLocked(c.repo, is, is.labels))
}

func (s *Server) hRemoveLabel(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	if !s.removeLabelLocked(c.repo, is, c.params["name"], s.bot()) {
		return errorResponse(http.StatusNotFound, "Label does not exist")
	}
	return jsonResponse(http.StatusOK, s.issueLabelsJSONLocked(c.repo, is, is.labels))
}

func (s *Server) hListRepoLabels(c *call) response {
	lo, hi, h := paginate(c, len(c.repo.labels))
	out := []*github.Label{}
	for _, l := range c.repo.labels[lo:hi] {
		out = append(out, s.ghLabelLocked(c.repo, l))
	}
	res := jsonResponse(http.StatusOK, out)
	res.header = h
	return res
}

func (s *Server) hCreateLabel(c *call) response {
	var req struct {
		Name        string `json:"name"`
		Color       string `json:"color"`
		Description string `json:"description"`
	}
	if res, ok := decode(c, &req); !ok {
		return res
	}
	if strings.TrimSpace(req.Name) == "" {
		return validationFailed("Label", "name", "missing_field")
	}
	if c.repo.findLabel(req.Name) != nil {
		return validationFailed("Label", "name", "already_exists")
	}
	color := strings.TrimPrefix(req.Color, "#")
	if color == "" {
		color = "ededed"
	}
	if _, err := strconv.ParseUint(color, 16, 32); err != nil || len(color) != 6 {
		return validationFailed("Label", "color", "invalid")
	}
	l := &label{id: s.newIDLocked(), name: req.Name, color: strings.ToLower(color), description: req.Description}
	c.repo.labels = append(c.repo.labels, l)
	res := jsonResponse(http.StatusCreated, s.ghLabelLocked(c.repo, l))
	res.header = http.Header{"Location": {c.repo.apiURL() + "/labels/" + url.PathEscape(l.name)}}
	return res
}

// hUpdateLabel is "Update a label": new_name, color and description, each optional.
func (s *Server) hUpdateLabel(c *call) response {
	l := c.repo.findLabel(c.params["name"])
	if l == nil {
		return notFound()
	}
	var req struct {
		NewName     *string `json:"new_name"`
		Color       *string `json:"color"`
		Description *string `json:"description"`
	}
	if res, ok := decode(c, &req); !ok {
		return res
	}
	if req.Color != nil {
		color := strings.ToLower(strings.TrimPrefix(*req.Color, "#"))
		if _, err := strconv.ParseUint(color, 16, 32); err != nil || len(color) != 6 {
			return validationFailed("Label", "color", "invalid")
		}
		l.color = color
	}
	if req.Description != nil {
		l.description = *req.Description
	}
	if req.NewName != nil && *req.NewName != "" {
		if other := c.repo.findLabel(*req.NewName); other != nil && other != l {
			return validationFailed("Label", "name", "already_exists")
		}
		l.name = *req.NewName
	}
	return jsonResponse(http.StatusOK, s.ghLabelLocked(c.repo, l))
}

func (s *Server) hListComments(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	list := is.comments
	if since := c.r.URL.Query().Get("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			return validationFailed("IssueComment", "since", "invalid")
		}
		list = slices.DeleteFunc(slices.Clone(list), func(x *comment) bool { return x.updated.Before(t) })
	}
	lo, hi, h := paginate(c, len(list))
	out := []*github.IssueComment{}
	for _, cm := range list[lo:hi] {
		out = append(out, s.ghCommentLocked(c.repo, cm))
	}
	res = jsonResponse(http.StatusOK, out)
	res.header = h
	return res
}

// commentBody is a comment request's body, or GitHub's answer to one it refuses.
func commentBody(c *call) (string, response, bool) {
	var req struct {
		Body *string `json:"body"`
	}
	if res, ok := decode(c, &req); !ok {
		return "", res, false
	}
	if req.Body == nil || strings.TrimSpace(*req.Body) == "" {
		return "", validationFailed("IssueComment", "body", "missing_field"), false
	}
	if tooLong(*req.Body) {
		return "", validationFailed("IssueComment", "body", "custom"), false
	}
	return *req.Body, response{}, true
}

func (s *Server) hCreateComment(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	body, res, ok := commentBody(c)
	if !ok {
		return res
	}
	cm := s.createCommentLocked(c.repo, is, s.bot(), body)
	res = jsonResponse(http.StatusCreated, s.ghCommentLocked(c.repo, cm))
	res.header = http.Header{"Location": {fmt.Sprintf("%s/issues/comments/%d", c.repo.apiURL(), cm.id)}}
	return res
}

func (s *Server) callComment(c *call) (*issue, *comment, response, bool) {
	id, ok := pathInt(c, "comment_id")
	if !ok {
		return nil, nil, notFound(), false
	}
	is, cm := c.repo.findComment(id)
	if cm == nil {
		return nil, nil, notFound(), false
	}
	if res, ok := c.permitted(is); !ok {
		return nil, nil, res, false
	}
	return is, cm, response{}, true
}

func (s *Server) hUpdateComment(c *call) response {
	is, cm, res, ok := s.callComment(c)
	if !ok {
		return res
	}
	body, res, ok := commentBody(c)
	if !ok {
		return res
	}
	s.editCommentLocked(c.repo, is, cm, s.bot(), body)
	return jsonResponse(http.StatusOK, s.ghCommentLocked(c.repo, cm))
}

func (s *Server) hReact(c *call) response {
	_, cm, res, ok := s.callComment(c)
	if !ok {
		return res
	}
	var req struct {
		Content string `json:"content"`
	}
	if res, ok := decode(c, &req); !ok {
		return res
	}
	if !reactionContents[req.Content] {
		return validationFailed("Reaction", "content", "invalid")
	}
	rc, created := s.reactLocked(cm, s.bot(), req.Content)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	b, _ := json.Marshal(&github.Reaction{ID: ptr(rc.id), NodeID: ptr(nodeID("REA", rc.id)),
		User: s.ghUserLocked(rc.user), Content: ptr(rc.content)})
	// go-github's Reaction has no created_at, which GitHub sends.
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["created_at"] = rc.created.UTC().Format(time.RFC3339)
	return jsonResponse(status, m)
}

func assigneesBody(c *call) ([]string, response, bool) {
	if len(c.body) == 0 {
		return nil, response{}, true
	}
	var req struct {
		Assignees []string `json:"assignees"`
	}
	if res, ok := decode(c, &req); !ok {
		return nil, res, false
	}
	return req.Assignees, response{}, true
}

func (s *Server) hAddAssignees(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	who, res, ok := assigneesBody(c)
	if !ok {
		return res
	}
	for _, a := range who {
		if len(is.assignees) >= 10 {
			break // GitHub allows ten assignees and ignores the rest
		}
		s.assignLocked(c.repo, is, a, s.bot())
	}
	return jsonResponse(http.StatusCreated, s.issueJSONLocked(c.repo, is))
}

func (s *Server) hRemoveAssignees(c *call) response {
	is, res, ok := s.callIssue(c)
	if !ok {
		return res
	}
	who, res, ok := assigneesBody(c)
	if !ok {
		return res
	}
	for _, a := range who {
		s.unassignLocked(c.repo, is, a, s.bot())
	}
	return jsonResponse(http.StatusOK, s.issueJSONLocked(c.repo, is))
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// GitHub's contents API gives the content of files up to 1 MB, the metadata of files up to
// 100 MB, and refuses larger ones (REST "Get repository content").
const (
	maxContentsSize = 1 << 20
	maxBlobAPISize  = 100 << 20
)

func (s *Server) hContents(c *call) response {
	if ref := c.r.URL.Query().Get("ref"); ref != "" && ref != c.repo.defaultBranch && ref != "refs/heads/"+c.repo.defaultBranch && ref != c.repo.head {
		return errorResponse(http.StatusNotFound, "No commit found for the ref "+ref)
	}
	p := strings.Trim(c.params["path"], "/")
	f, ok := c.repo.files[p]
	if !ok {
		return s.directoryLocked(c, strings.Trim(p, "/"))
	}
	etag := `W/"` + f.sha + `"`
	h := http.Header{"Etag": {etag}, "Cache-Control": {"private, max-age=60, s-maxage=60"},
		"Last-Modified": {c.repo.created.UTC().Format(http.TimeFormat)}}
	if inm := c.r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		return response{status: http.StatusNotModified, header: h}
	}
	self := c.repo.apiURL() + "/contents/" + p + "?ref=" + c.repo.defaultBranch
	html := c.repo.htmlURL() + "/blob/" + c.repo.defaultBranch + "/" + p
	git := c.repo.apiURL() + "/git/blobs/" + f.sha
	if len(f.content) > maxBlobAPISize {
		return jsonResponse(http.StatusForbidden, map[string]any{
			"message":           "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, but you can use the Git Data API to request blobs up to 100 MB in size.",
			"documentation_url": docsURL, "status": "403",
			"errors": []map[string]string{{"resource": "Blob", "field": "data", "code": "too_large"}},
		})
	}
	name := p[strings.LastIndex(p, "/")+1:]
	encoding, content := "base64", wrapBase64(f.content)
	if len(f.content) > maxContentsSize {
		// GitHub gives the metadata of a file between 1 and 100 MB, not its content.
		encoding, content = "none", ""
	}
	res := jsonResponse(http.StatusOK, map[string]any{
		"type": "file", "encoding": encoding, "size": len(f.content), "name": name, "path": p,
		"content": content, "sha": f.sha, "url": self, "git_url": git, "html_url": html,
		"download_url": "https://raw.githubusercontent.com/" + c.repo.fullName() + "/" + c.repo.defaultBranch + "/" + p,
		"_links":       map[string]string{"self": self, "git": git, "html": html},
	})
	res.header = h
	return res
}

// directoryLocked lists a directory of the default branch (the files under it, and its
// subdirectories), as the contents API does; 404 when nothing is under it.
func (s *Server) directoryLocked(c *call, dir string) response {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	entries := map[string]map[string]any{}
	for p, f := range c.repo.files {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		name, _, isDir := strings.Cut(rest, "/")
		full := prefix + name
		self := c.repo.apiURL() + "/contents/" + full + "?ref=" + c.repo.defaultBranch
		html := c.repo.htmlURL() + "/blob/" + c.repo.defaultBranch + "/" + full
		e := map[string]any{"type": "file", "name": name, "path": full, "sha": f.sha, "size": len(f.content), "url": self,
			"html_url": html, "git_url": c.repo.apiURL() + "/git/blobs/" + f.sha,
			"download_url": "https://raw.githubusercontent.com/" + c.repo.fullName() + "/" + c.repo.defaultBranch + "/" + full}
		if isDir {
			html = c.repo.htmlURL() + "/tree/" + c.repo.defaultBranch + "/" + full
			e = map[string]any{"type": "dir", "name": name, "path": full, "sha": f.sha, "size": 0, "url": self, "html_url": html,
				"git_url": c.repo.apiURL() + "/git/trees/" + f.sha, "download_url": nil}
		}
		e["_links"] = map[string]any{"self": self, "git": e["git_url"], "html": html}
		entries[name] = e
	}
	if len(entries) == 0 {
		return notFound()
	}
	out := make([]map[string]any, 0, len(entries))
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		out = append(out, entries[name])
	}
	b, _ := json.Marshal(out)
	etag := `W/"` + fmt.Sprintf("%x", sha1.Sum(b)) + `"`
	if inm := c.r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		return response{status: http.StatusNotModified, header: http.Header{"Etag": {etag}}}
	}
	res := jsonResponse(http.StatusOK, json.RawMessage(b))
	res.header = http.Header{"Etag": {etag}}
	return res
}

// hCommunityProfile is GitHub's community profile: the community health files it found, in
// any case, at the root, in .github/ or in docs/.
func (s *Server) hCommunityProfile(c *call) response {
	files := map[string]any{"code_of_conduct": nil, "code_of_conduct_file": nil, "license": nil, "contributing": nil,
		"readme": nil, "issue_template": nil, "pull_request_template": nil}
	health := 0
	for _, p := range slices.Sorted(maps.Keys(c.repo.files)) {
		dir, name := "", p
		if i := strings.LastIndex(p, "/"); i >= 0 {
			dir, name = p[:i], p[i+1:]
		}
		if (dir == "" || dir == ".github" || dir == "docs") && strings.EqualFold(name, "CODE_OF_CONDUCT.md") && files["code_of_conduct_file"] == nil {
			files["code_of_conduct_file"] = map[string]any{"url": c.repo.apiURL() + "/contents/" + p,
				"html_url": c.repo.htmlURL() + "/blob/" + c.repo.defaultBranch + "/" + p}
			health += 20
		}
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"health_percentage": health, "description": nil, "documentation": nil, "files": files,
		"updated_at": c.repo.created.UTC().Format(time.RFC3339), "content_reports_enabled": false,
	})
}

func (s *Server) hPermission(c *call) response {
	login := c.params["username"]
	u, ok := s.users[strings.ToLower(login)]
	if !ok {
		return errorResponse(http.StatusNotFound, fmt.Sprintf("%s is not a user", login))
	}
	role := c.repo.perms[strings.ToLower(login)]
	if role == "" {
		role = "read" // every user can read a public repository
	}
	if strings.EqualFold(login, c.repo.owner) {
		role = "admin"
	}
	perm := map[string]string{"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}[role]
	var userJSON map[string]any
	b, _ := json.Marshal(s.ghUserLocked(u.login))
	_ = json.Unmarshal(b, &userJSON)
	userJSON["role_name"] = role
	userJSON["permissions"] = map[string]bool{"admin": role == "admin", "maintain": slices.Index(roles, role) >= 3,
		"push": slices.Index(roles, role) >= 2, "triage": slices.Index(roles, role) >= 1, "pull": true}
	return jsonResponse(http.StatusOK, map[string]any{"permission": perm, "role_name": role, "user": userJSON})
}

func (s *Server) hRateLimit(c *call) response {
	b := s.bucketLocked(c.inst, c.now)
	rate := map[string]int64{"limit": int64(b.limit), "remaining": int64(max(b.limit-b.used, 0)),
		"reset": b.reset.Unix(), "used": int64(b.used)}
	search := map[string]int64{"limit": 30, "remaining": 30, "reset": c.now.Add(time.Minute).Unix(), "used": 0}
	graphql := map[string]int64{"limit": 5000, "remaining": 5000, "reset": b.reset.Unix(), "used": 0}
	return jsonResponse(http.StatusOK, map[string]any{
		"resources": map[string]any{"core": rate, "search": search, "graphql": graphql},
		"rate":      rate,
	})
}

func (s *Server) hListDeliveries(c *call) response {
	q := c.r.URL.Query()
	perPage := 30
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return validationFailed("HookDelivery", "per_page", "invalid")
		}
		perPage = min(n, 100)
	}
	// Newest first; the cursor is the id of the next delivery to list.
	var cursor int64 = 1<<63 - 1
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errorResponse(http.StatusBadRequest, "Bad cursor")
		}
		cursor = n
	}
	out := []json.RawMessage{}
	var next int64
	for i := len(s.deliveries) - 1; i >= 0; i-- {
		d := s.deliveries[i]
		if !d.done || d.id > cursor {
			continue
		}
		if len(out) == perPage {
			next = d.id
			break
		}
		out = append(out, s.deliveryJSON(d))
	}
	res := jsonResponse(http.StatusOK, out)
	if next != 0 {
		u := requestURL(c)
		qq := u.Query()
		qq.Set("cursor", strconv.FormatInt(next, 10))
		u.RawQuery = qq.Encode()
		res.header = http.Header{"Link": {fmt.Sprintf(`<%s>; rel="next"`, u)}}
	}
	return res
}

func (s *Server) deliveryJSON(d *delivery) json.RawMessage {
	hd := &github.HookDelivery{ID: ptr(d.id), GUID: ptr(d.guid), DeliveredAt: &github.Timestamp{Time: d.deliveredAt},
		Redelivery: ptr(d.redelivery), Duration: ptr(d.duration.Seconds()), Status: ptr(d.status),
		StatusCode: ptr(d.statusCode), Event: ptr(d.event)}
	if d.action != "" {
		hd.Action = ptr(d.action)
	}
	if d.installationID != 0 {
		hd.InstallationID = ptr(d.installationID)
	}
	if d.repositoryID != 0 {
		hd.RepositoryID = ptr(d.repositoryID)
	}
	return withNulls(hd, "action", "installation_id", "repository_id", "redelivery", "duration", "status_code")
}

func (s *Server) hRedeliver(c *call) response {
	id, ok := pathInt(c, "delivery_id")
	if !ok {
		return notFound()
	}
	if err := s.redeliverLocked(id); err != nil {
		return notFound()
	}
	return jsonResponse(http.StatusAccepted, map[string]any{})
}

func requestURL(c *call) *url.URL {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: c.r.Host, Path: c.r.URL.Path, RawPath: c.r.URL.RawPath, RawQuery: c.r.URL.RawQuery}
}

// paginate applies page/per_page (default 30, at most 100) and returns the slice bounds and a
// Link header like GitHub's.
func paginate(c *call, n int) (lo, hi int, h http.Header) {
	q := c.r.URL.Query()
	perPage, page := 30, 1
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max((n+perPage-1)/perPage, 1)
	lo = min((page-1)*perPage, n)
	hi = min(lo+perPage, n)
	link := func(p int, rel string) string {
		u := requestURL(c)
		qq := u.Query()
		qq.Set("page", strconv.Itoa(p))
		qq.Set("per_page", strconv.Itoa(perPage))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf(`<%s>; rel="%s"`, u, rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		h = http.Header{"Link": {strings.Join(links, ", ")}}
	}
	return lo, hi, h
}

// GitHub's limits on what it accepts: a comment body of at most 65,536 characters, at most 100
// labels on an issue. Both are answered 422.
const (
	maxCommentChars = 65536
	maxIssueLabels  = 100
)

func tooLong(body string) bool { return utf8.RuneCountInString(body) > maxCommentChars }

// mergedLabels is have with add's names it lacks (any case).
func mergedLabels(have, add []string) []string {
	out := slices.Clone(have)
	for _, n := range add {
		if !slices.ContainsFunc(out, func(l string) bool { return strings.EqualFold(l, n) }) {
			out = append(out, n)
		}
	}
	return out
}
