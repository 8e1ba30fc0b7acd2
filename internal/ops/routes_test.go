package ops

import "testing"

func TestRoute(t *testing.T) {
	tests := []struct {
		give string
		want string
	}{
		{give: "/repos/octo-org/rocket/issues/12/labels", want: "/repos/{owner}/{repo}/issues/{issue_number}/labels"},
		{give: "/repos/octo-org/rocket/issues/12/labels/needs-triage", want: "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"},
		{give: "/repos/o/r/issues/comments/99", want: "/repos/{owner}/{repo}/issues/comments/{comment_id}"},
		{give: "/repos/o/r/issues/comments/99/reactions", want: "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"},
		{give: "/repos/o/r/issues/7", want: "/repos/{owner}/{repo}/issues/{issue_number}"},
		{give: "/repos/o/r/contents/.github/triagebot.yml", want: "/repos/{owner}/{repo}/contents/{path}"},
		{give: "/repos/o/r/contents/CODE_OF_CONDUCT.md", want: "/repos/{owner}/{repo}/contents/{path}"},
		{give: "/app/installations/42/access_tokens", want: "/app/installations/{installation_id}/access_tokens"},
		{give: "/app", want: "/app"},
		{give: "/repos/o/r/issues", want: "/repos/{owner}/{repo}/issues"},
		{give: "/repos/o/r/pulls/1", want: RouteOther},
		{give: "/", want: RouteOther},
		{give: "/repos//r/issues", want: RouteOther},
		{give: "/<script>alert(1)</script>", want: RouteOther},
	}
	for _, tt := range tests {
		if got := Route(tt.give); got != tt.want {
			t.Errorf("Route(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}
