package ghfake

import (
	"encoding/json"
	"strings"
)

// go-github omits nil pointers and empty slices; GitHub sends nulls and empty arrays. These
// defaults fill in what go-github dropped, so payloads and responses have GitHub's keys.

var issueDefaults = map[string]string{
	"assignee": "null", "milestone": "null", "closed_at": "null", "state_reason": "null",
	"labels": "[]", "assignees": "[]", "active_lock_reason": "null", "performed_via_github_app": "null",
}

var repoDefaults = map[string]string{
	"description": "null", "homepage": "null", "language": "null", "mirror_url": "null", "license": "null",
	"forks": "0", "forks_count": "0", "stargazers_count": "0", "watchers": "0", "watchers_count": "0",
	"size": "0", "topics": "[]", "has_projects": "true", "has_wiki": "true", "has_pages": "false",
	"has_downloads": "true", "has_discussions": "false", "is_template": "false", "allow_forking": "true",
	"web_commit_signoff_required": "false", "custom_properties": "{}",
}

// repoURLs are the URL templates of a repository object, relative to its API URL.
var repoURLs = map[string]string{
	"archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}", "blobs_url": "/git/blobs{/sha}",
	"branches_url": "/branches{/branch}", "collaborators_url": "/collaborators{/collaborator}",
	"comments_url": "/comments{/number}", "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
	"contributors_url": "/contributors", "deployments_url": "/deployments", "downloads_url": "/downloads",
	"events_url": "/events", "forks_url": "/forks", "git_commits_url": "/git/commits{/sha}",
	"git_refs_url": "/git/refs{/sha}", "git_tags_url": "/git/tags{/sha}", "hooks_url": "/hooks",
	"issue_comment_url": "/issues/comments{/number}", "issue_events_url": "/issues/events{/number}",
	"keys_url": "/keys{/key_id}", "languages_url": "/languages", "merges_url": "/merges",
	"milestones_url": "/milestones{/number}", "notifications_url": "/notifications{?since,all,participating}",
	"pulls_url": "/pulls{/number}", "releases_url": "/releases{/id}", "stargazers_url": "/stargazers",
	"statuses_url": "/statuses/{sha}", "subscribers_url": "/subscribers", "subscription_url": "/subscription",
	"tags_url": "/tags", "teams_url": "/teams", "trees_url": "/git/trees{/sha}",
}

var installationDefaults = map[string]string{
	"single_file_name": "null", "suspended_at": "null", "suspended_by": "null",
}

func fill(m map[string]json.RawMessage, defaults map[string]string) {
	for k, v := range defaults {
		if _, ok := m[k]; !ok {
			m[k] = json.RawMessage(v)
		}
	}
}

// patchObject applies edit to the JSON object under key, if there is one.
func patchObject(m map[string]json.RawMessage, key string, edit func(map[string]json.RawMessage)) {
	raw, ok := m[key]
	if !ok {
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return
	}
	edit(obj)
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	m[key] = b
}

func patchRepo(repo map[string]json.RawMessage) {
	fill(repo, repoDefaults)
	var api, html string
	_ = json.Unmarshal(repo["url"], &api)
	_ = json.Unmarshal(repo["html_url"], &html)
	if !strings.HasPrefix(api, apiBase) {
		api = strings.Replace(html, htmlBase, apiBase+"/repos", 1)
	}
	urls := map[string]string{}
	for k, suffix := range repoURLs {
		b, _ := json.Marshal(api + suffix)
		urls[k] = string(b)
	}
	if html != "" {
		b, _ := json.Marshal(html)
		urls["svn_url"] = string(b)
	}
	if v, ok := repo["open_issues_count"]; ok {
		urls["open_issues"] = string(v)
	}
	if v, ok := repo["updated_at"]; ok {
		urls["pushed_at"] = string(v)
	}
	fill(repo, urls)
}

// payloadJSON marshals a webhook payload with GitHub's keys.
func (s *Server) payloadJSON(ev any) []byte {
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	patchObject(m, "issue", func(o map[string]json.RawMessage) { fill(o, issueDefaults) })
	patchObject(m, "comment", func(o map[string]json.RawMessage) {
		app := "null"
		var u struct {
			Login string `json:"login"`
		}
		if raw, ok := o["user"]; ok && json.Unmarshal(raw, &u) == nil && strings.EqualFold(u.Login, s.BotLogin()) {
			app = s.appJSON()
		}
		fill(o, map[string]string{"performed_via_github_app": app})
	})
	patchObject(m, "repository", patchRepo)
	patchObject(m, "installation", func(o map[string]json.RawMessage) {
		if _, full := o["account"]; full {
			fill(o, installationDefaults)
		}
	})
	if _, ok := m["repositories_added"]; ok {
		fill(m, map[string]string{"repositories_removed": "[]", "requester": "null"})
	}
	if _, ok := m["commits"]; ok {
		fill(m, map[string]string{"base_ref": "null"})
	}
	out, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return out
}

// appJSON is the App as GitHub embeds it in performed_via_github_app.
func (s *Server) appJSON() string {
	b, _ := json.Marshal(map[string]any{
		"id": s.appID, "slug": s.appSlug, "node_id": nodeID("A", s.appID), "name": s.appSlug,
		"description": "", "external_url": "https://example.invalid/" + s.appSlug,
		"html_url": htmlBase + "/apps/" + s.appSlug, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
		"owner": nil, "permissions": DefaultPermissions(),
		"events": []string{"issues", "issue_comment", "push", "installation", "installation_repositories"},
	})
	return string(b)
}

// withDefaults marshals v and adds defaults (raw JSON) for the keys v omitted.
func withDefaults(v any, defaults map[string]string) json.RawMessage {
	return patched(v, func(m map[string]json.RawMessage) { fill(m, defaults) })
}

// patched marshals v, an object, with edit applied to its keys.
func patched(v any, edit func(map[string]json.RawMessage)) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	edit(m)
	b, err = json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
