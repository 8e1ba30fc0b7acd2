package ops

import "strings"

// routes are the REST routes triagebot calls, as templates: the route label of the GitHub
// metrics comes from this closed list, never from the URL (which holds repository names).
var routes = []string{
	"/app",
	"/app/hook/deliveries",
	"/app/hook/deliveries/{delivery_id}/attempts",
	"/app/installations",
	"/app/installations/{installation_id}/access_tokens",
	"/installation/repositories",
	"/rate_limit",
	"/orgs/{org}/teams/{team_slug}/memberships/{username}",
	"/repos/{owner}/{repo}",
	"/repos/{owner}/{repo}/collaborators/{username}/permission",
	"/repos/{owner}/{repo}/community/profile",
	"/repos/{owner}/{repo}/contents/{path}",
	"/repos/{owner}/{repo}/issues",
	"/repos/{owner}/{repo}/issues/comments/{comment_id}",
	"/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
	"/repos/{owner}/{repo}/issues/{issue_number}",
	"/repos/{owner}/{repo}/issues/{issue_number}/assignees",
	"/repos/{owner}/{repo}/issues/{issue_number}/comments",
	"/repos/{owner}/{repo}/issues/{issue_number}/labels",
	"/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
	"/repos/{owner}/{repo}/issues/{issue_number}/reactions",
	"/repos/{owner}/{repo}/labels",
	"/repos/{owner}/{repo}/labels/{name}",
	"/users/{username}",
}

// RouteOther is the route label of a path no template matches.
const RouteOther = "other"

type routeTemplate struct {
	tmpl string
	segs []string
	rest bool // the last parameter takes the rest of the path ({path})
}

var routeTemplates = func() []routeTemplate {
	out := make([]routeTemplate, len(routes))
	for i, r := range routes {
		segs := strings.Split(strings.TrimPrefix(r, "/"), "/")
		out[i] = routeTemplate{tmpl: r, segs: segs, rest: segs[len(segs)-1] == "{path}"}
	}
	return out
}()

// Route is the template of a REST path relative to the API root ("/repos/o/r/issues/1" →
// "/repos/{owner}/{repo}/issues/{issue_number}"), or RouteOther. Literal segments win over
// parameters ("/repos/o/r/issues/comments/5" is a comment, not issue "comments").
func Route(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	best, bestLiterals := RouteOther, -1
	for _, rt := range routeTemplates {
		if !(len(segs) == len(rt.segs) || rt.rest && len(segs) >= len(rt.segs)) {
			continue
		}
		literals, ok := 0, true
		for i, s := range rt.segs {
			if strings.HasPrefix(s, "{") {
				if segs[i] == "" {
					ok = false
					break
				}
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
			literals++
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = rt.tmpl, literals
		}
	}
	return best
}
