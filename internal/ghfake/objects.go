package ghfake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Builders of go-github values from the fake's state, so REST responses and webhook payloads
// have GitHub's shapes. Callers hold s.mu.

func ptr[T any](v T) *T { return &v }

func (s *Server) ghUserLocked(login string) *github.User {
	u := s.userLocked(login)
	api := apiBase + "/users/" + url.PathEscape(u.login)
	return &github.User{
		Login: ptr(u.login), ID: ptr(u.id), NodeID: ptr(nodeID("U", u.id)),
		AvatarURL:         ptr(fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", u.id)),
		GravatarID:        ptr(""),
		URL:               ptr(api),
		HTMLURL:           ptr(htmlBase + "/" + url.PathEscape(u.login)),
		FollowersURL:      ptr(api + "/followers"),
		FollowingURL:      ptr(api + "/following{/other_user}"),
		GistsURL:          ptr(api + "/gists{/gist_id}"),
		StarredURL:        ptr(api + "/starred{/owner}{/repo}"),
		SubscriptionsURL:  ptr(api + "/subscriptions"),
		OrganizationsURL:  ptr(api + "/orgs"),
		ReposURL:          ptr(api + "/repos"),
		EventsURL:         ptr(api + "/events{/privacy}"),
		ReceivedEventsURL: ptr(api + "/received_events"),
		Type:              ptr(u.typ),
		SiteAdmin:         ptr(false),
	}
}

func nodeID(kind string, id int64) string { return fmt.Sprintf("%s_kgDO%08d", kind, id) }

func (r *repo) apiURL() string  { return apiBase + "/repos/" + r.owner + "/" + r.name }
func (r *repo) htmlURL() string { return htmlBase + "/" + r.owner + "/" + r.name }

func (s *Server) ghRepoLocked(r *repo) *github.Repository {
	open := 0
	for _, is := range r.issues {
		if is.state == "open" {
			open++
		}
	}
	return &github.Repository{
		ID: ptr(r.id), NodeID: ptr(nodeID("R", r.id)), Name: ptr(r.name), FullName: ptr(r.fullName()),
		Owner: s.ghUserLocked(r.owner), Private: ptr(false), Fork: ptr(false),
		HTMLURL: ptr(r.htmlURL()), URL: ptr(r.apiURL()), DefaultBranch: ptr(r.defaultBranch),
		CloneURL: ptr(r.htmlURL() + ".git"), GitURL: ptr("git://github.com/" + r.fullName() + ".git"),
		SSHURL: ptr("git@github.com:" + r.fullName() + ".git"), Visibility: ptr("public"),
		CreatedAt: &github.Timestamp{Time: r.created}, UpdatedAt: &github.Timestamp{Time: r.created},
		HasIssues: ptr(true), OpenIssuesCount: ptr(open), Archived: ptr(false), Disabled: ptr(false),
		LabelsURL: ptr(r.apiURL() + "/labels{/name}"), IssuesURL: ptr(r.apiURL() + "/issues{/number}"),
		ContentsURL: ptr(r.apiURL() + "/contents/{+path}"),
	}
}

func (s *Server) ghLabelLocked(r *repo, l *label) *github.Label {
	return &github.Label{
		ID: ptr(l.id), NodeID: ptr(nodeID("LA", l.id)), URL: ptr(r.apiURL() + "/labels/" + url.PathEscape(l.name)),
		Name: ptr(l.name), Color: ptr(l.color), Description: ptr(l.description), Default: ptr(false),
	}
}

func (s *Server) ghIssueLocked(r *repo, is *issue) *github.Issue {
	u := fmt.Sprintf("%s/issues/%d", r.apiURL(), is.number)
	gi := &github.Issue{
		ID: ptr(is.id), NodeID: ptr(nodeID("I", is.id)), Number: ptr(is.number), URL: ptr(u),
		RepositoryURL: ptr(r.apiURL()), LabelsURL: ptr(u + "/labels{/name}"), CommentsURL: ptr(u + "/comments"),
		EventsURL: ptr(u + "/events"), HTMLURL: ptr(fmt.Sprintf("%s/issues/%d", r.htmlURL(), is.number)),
		State: ptr(is.state), Title: ptr(is.title), Body: ptr(is.body), User: s.ghUserLocked(is.author),
		Locked: ptr(false), Comments: ptr(len(is.comments)), AuthorAssociation: ptr(is.assoc),
		CreatedAt: &github.Timestamp{Time: is.created}, UpdatedAt: &github.Timestamp{Time: is.updated},
		Labels: []*github.Label{}, Assignees: []*github.User{},
		Reactions: s.rollup(u+"/reactions", is.reactions),
	}
	if is.stateReason != "" {
		gi.StateReason = ptr(is.stateReason)
	}
	if is.pull {
		html := fmt.Sprintf("%s/pull/%d", r.htmlURL(), is.number)
		gi.HTMLURL = ptr(html)
		gi.PullRequestLinks = &github.PullRequestLinks{URL: ptr(fmt.Sprintf("%s/pulls/%d", r.apiURL(), is.number)),
			HTMLURL: ptr(html), DiffURL: ptr(html + ".diff"), PatchURL: ptr(html + ".patch")}
	}
	for _, name := range is.labels {
		gi.Labels = append(gi.Labels, s.ghLabelLocked(r, s.labelForLocked(r, name)))
	}
	for _, a := range is.assignees {
		gi.Assignees = append(gi.Assignees, s.ghUserLocked(a))
	}
	if len(gi.Assignees) > 0 {
		gi.Assignee = gi.Assignees[0]
	}
	if is.state == "closed" {
		gi.ClosedAt = &github.Timestamp{Time: is.closed}
		if is.closedBy != "" {
			gi.ClosedBy = s.ghUserLocked(is.closedBy)
		}
	}
	return gi
}

func (s *Server) rollup(u string, rs []*reaction) *github.Reactions {
	counts := map[string]int{}
	for _, r := range rs {
		counts[r.content]++
	}
	return &github.Reactions{
		URL: ptr(u), TotalCount: ptr(len(rs)), PlusOne: ptr(counts["+1"]), MinusOne: ptr(counts["-1"]),
		Laugh: ptr(counts["laugh"]), Confused: ptr(counts["confused"]), Heart: ptr(counts["heart"]),
		Hooray: ptr(counts["hooray"]), Rocket: ptr(counts["rocket"]), Eyes: ptr(counts["eyes"]),
	}
}

func (s *Server) ghCommentLocked(r *repo, c *comment) *github.IssueComment {
	u := fmt.Sprintf("%s/issues/comments/%d", r.apiURL(), c.id)
	return &github.IssueComment{
		ID: ptr(c.id), NodeID: ptr(nodeID("IC", c.id)), URL: ptr(u),
		HTMLURL:  ptr(fmt.Sprintf("%s/issues/%d#issuecomment-%d", r.htmlURL(), c.issue, c.id)),
		IssueURL: ptr(fmt.Sprintf("%s/issues/%d", r.apiURL(), c.issue)),
		Body:     ptr(c.body), User: s.ghUserLocked(c.user), AuthorAssociation: ptr(c.assoc),
		CreatedAt: &github.Timestamp{Time: c.created}, UpdatedAt: &github.Timestamp{Time: c.updated},
		Reactions: s.rollup(u+"/reactions", c.reactions),
	}
}

func (s *Server) ghInstallationLocked(id int64) *github.Installation {
	return &github.Installation{ID: ptr(id), NodeID: ptr(nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", id))}
}

// ghFullInstallationLocked is the installation object of installation events.
func (s *Server) ghFullInstallationLocked(in *installation) *github.Installation {
	gi := s.ghInstallationLocked(in.id)
	acct := s.ghUserLocked(in.account)
	now := &github.Timestamp{Time: s.now()}
	gi.Account, gi.AppID, gi.AppSlug = acct, ptr(s.appID), ptr(s.appSlug)
	gi.TargetID, gi.TargetType = acct.ID, acct.Type
	gi.RepositorySelection = ptr("selected")
	gi.AccessTokensURL = ptr(fmt.Sprintf("%s/app/installations/%d/access_tokens", apiBase, in.id))
	gi.RepositoriesURL = ptr(apiBase + "/installation/repositories")
	gi.HTMLURL = ptr(fmt.Sprintf("%s/organizations/%s/settings/installations/%d", htmlBase, in.account, in.id))
	gi.Events = []string{"issues", "issue_comment", "push"}
	gi.Permissions = ghPermissions(in.perms)
	gi.CreatedAt, gi.UpdatedAt = now, now
	return gi
}

// withNulls marshals v and adds the given keys as JSON null where v omitted them: go-github
// drops nil fields, while GitHub sends (and the OpenAPI description requires) explicit nulls.
func withNulls(v any, keys ...string) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own values always marshal
	}
	if len(keys) == 0 || !strings.HasPrefix(string(b), "{") {
		return b
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			m[k] = json.RawMessage("null")
		}
	}
	b, err = json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// issueJSON is an issue as the REST API returns it.
func (s *Server) issueJSONLocked(r *repo, is *issue) json.RawMessage {
	return withDefaults(s.ghIssueLocked(r, is), issueDefaults)
}
