package ghfake

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// TestOpenAPI drives every operation the fake implements through go-github, on success and
// error paths, and validates each request and response against GitHub's OpenAPI description.
func TestOpenAPI(t *testing.T) {
	for _, prefix := range []string{"/", "/api/v3/"} {
		t.Run("prefix="+prefix, func(t *testing.T) { testOpenAPI(t, prefix) })
	}
}

func testOpenAPI(t *testing.T, prefix string) {
	ctx := testCtx(t)
	clk := newClock()
	fake := New(WithPrefix(prefix), WithClock(clk.Now), WithApp(42, "triagebot"),
		WithInstallation(7, "octo", "octo/hello", "octo/.github"), WithInstallation(8, "other", "other/repo"))
	defer fake.Close()
	v := newValidator(t, prefix)
	srv := httptest.NewServer(v.wrap(fake))
	defer srv.Close()

	app := newClient(t, srv, prefix, func() string {
		return "Bearer " + appJWT(t, fake, "42", clk.Now().Add(-30*time.Second), clk.Now().Add(9*time.Minute))
	})
	it, _, err := app.Apps.CreateInstallationToken(ctx, 7, &github.InstallationTokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok := it.GetToken()
	gh := newClient(t, srv, prefix, func() string { return "token " + tok })

	const owner, repo = "octo", "hello"
	issue := must[int](t)(fake.OpenIssue("octo/hello", "alice", "Crash on start", "It crashes.", "bug"))
	if err := fake.PutFile("octo/hello", ".github/triagebot.yml", []byte("needs_triage:\n  enabled: true\n")); err != nil {
		t.Fatal(err)
	}
	if err := fake.SetPermission("octo/hello", "maria", "triage"); err != nil {
		t.Fatal(err)
	}
	var etag string
	var commentID int64

	// Each step returns the response of its call; want is its status code.
	steps := []struct {
		name string
		want int
		call func(ctx context.Context) (*github.Response, error)
	}{
		{"token for unknown installation", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := app.Apps.CreateInstallationToken(ctx, 999, &github.InstallationTokenOptions{})
			return r, err
		}},
		{"token with options", 201, func(ctx context.Context) (*github.Response, error) {
			_, r, err := app.Apps.CreateInstallationToken(ctx, 7, &github.InstallationTokenOptions{Repositories: []string{"hello"}})
			return r, err
		}},
		{"get issue", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Issues.Get(ctx, owner, repo, issue)
			if err == nil && (got.GetTitle() != "Crash on start" || got.Labels[0].GetName() != "bug") {
				t.Errorf("get issue: %+v", got)
			}
			return r, err
		}},
		{"get issue without labels or assignees", 200, func(ctx context.Context) (*github.Response, error) {
			n, err := fake.OpenIssue("octo/hello", "bob", "Bare", "")
			if err != nil {
				return nil, err
			}
			_, r, err := gh.Issues.Get(ctx, owner, repo, n)
			return r, err
		}},
		{"get a pull request through the Issues API", 200, func(ctx context.Context) (*github.Response, error) {
			n, err := fake.OpenPullRequest("octo/hello", "bob", "Fix", "")
			if err != nil {
				return nil, err
			}
			got, r, err := gh.Issues.Get(ctx, owner, repo, n)
			if err == nil && !got.IsPullRequest() {
				t.Errorf("pull request without pull_request: %+v", got)
			}
			return r, err
		}},
		{"get missing issue", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.Get(ctx, owner, repo, 999)
			return r, err
		}},
		{"close as not planned", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Issues.Edit(ctx, owner, repo, issue, &github.IssueRequest{State: github.String("closed"), StateReason: github.String("not_planned")})
			if err == nil && (got.GetState() != "closed" || got.GetStateReason() != "not_planned") {
				t.Errorf("close: state %q reason %q", got.GetState(), got.GetStateReason())
			}
			return r, err
		}},
		{"reopen", 200, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.Edit(ctx, owner, repo, issue, &github.IssueRequest{State: github.String("open")})
			return r, err
		}},
		{"invalid state", 422, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.Edit(expectInvalid(ctx), owner, repo, issue, &github.IssueRequest{State: github.String("stale")})
			return r, err
		}},
		{"add labels", 200, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.AddLabelsToIssue(ctx, owner, repo, issue, []string{"needs-triage", "priority: high", "area/api"})
			return r, err
		}},
		{"list issue labels, paginated", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Issues.ListLabelsByIssue(ctx, owner, repo, issue, &github.ListOptions{PerPage: 2})
			if err == nil && (len(got) != 2 || r.NextPage != 2 || r.LastPage != 2) {
				t.Errorf("labels page 1: %d labels, next %d, last %d", len(got), r.NextPage, r.LastPage)
			}
			return r, err
		}},
		{"remove label with a slash", 200, func(ctx context.Context) (*github.Response, error) {
			// go-github v60 does not escape the label name, so a slash would make another path.
			req, err := gh.NewRequest("DELETE", "repos/octo/hello/issues/1/labels/"+url.PathEscape("area/api"), nil)
			if err != nil {
				return nil, err
			}
			return gh.Do(ctx, req, nil)
		}},
		{"remove label with a space", 200, func(ctx context.Context) (*github.Response, error) {
			r, err := gh.Issues.RemoveLabelForIssue(ctx, owner, repo, issue, "priority: high")
			return r, err
		}},
		{"remove label not on the issue", 404, func(ctx context.Context) (*github.Response, error) {
			r, err := gh.Issues.RemoveLabelForIssue(ctx, owner, repo, issue, "priority: high")
			return r, err
		}},
		{"set labels", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Issues.ReplaceLabelsForIssue(ctx, owner, repo, issue, []string{"bug", "triaged"})
			if err == nil && len(got) != 2 {
				t.Errorf("set labels: %v", got)
			}
			return r, err
		}},
		{"list repo labels", 200, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.ListLabels(ctx, owner, repo, nil)
			return r, err
		}},
		{"create label", 201, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.CreateLabel(ctx, owner, repo, &github.Label{Name: github.String("priority: low"), Color: github.String("0e8a16"), Description: github.String("Low")})
			return r, err
		}},
		{"create duplicate label", 422, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.CreateLabel(ctx, owner, repo, &github.Label{Name: github.String("Priority: Low"), Color: github.String("0e8a16")})
			return r, err
		}},
		{"create comment", 201, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Issues.CreateComment(ctx, owner, repo, issue, &github.IssueComment{Body: github.String("Thanks! <!-- triagebot:welcome:1 -->")})
			commentID = got.GetID()
			return r, err
		}},
		{"create comment on missing issue", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.CreateComment(ctx, owner, repo, 999, &github.IssueComment{Body: github.String("x")})
			return r, err
		}},
		{"create empty comment", 422, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.CreateComment(ctx, owner, repo, issue, &github.IssueComment{Body: github.String(" ")})
			return r, err
		}},
		{"second and third comment", 201, func(ctx context.Context) (*github.Response, error) {
			if _, err := fake.Comment("octo/hello", issue, "bob", "me too"); err != nil {
				return nil, err
			}
			_, r, err := gh.Issues.CreateComment(ctx, owner, repo, issue, &github.IssueComment{Body: github.String("third")})
			return r, err
		}},
		{"list comments, page 2", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Issues.ListComments(ctx, owner, repo, issue, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{Page: 2, PerPage: 2}})
			if err == nil && (len(got) != 1 || r.PrevPage != 1 || r.FirstPage != 1 || r.NextPage != 0) {
				t.Errorf("comments page 2: %d comments, prev %d, first %d, next %d", len(got), r.PrevPage, r.FirstPage, r.NextPage)
			}
			return r, err
		}},
		{"list comments since", 200, func(ctx context.Context) (*github.Response, error) {
			since := clk.Now().Add(time.Hour)
			got, r, err := gh.Issues.ListComments(ctx, owner, repo, issue, &github.IssueListCommentsOptions{Since: &since})
			if err == nil && len(got) != 0 {
				t.Errorf("comments since the future: %d", len(got))
			}
			return r, err
		}},
		{"edit comment", 200, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.EditComment(ctx, owner, repo, commentID, &github.IssueComment{Body: github.String("Thanks, edited <!-- triagebot:welcome:1 -->")})
			return r, err
		}},
		{"edit missing comment", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.EditComment(ctx, owner, repo, 1, &github.IssueComment{Body: github.String("x")})
			return r, err
		}},
		{"react", 201, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Reactions.CreateIssueCommentReaction(ctx, owner, repo, commentID, "eyes")
			return r, err
		}},
		{"react again", 200, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Reactions.CreateIssueCommentReaction(ctx, owner, repo, commentID, "eyes")
			return r, err
		}},
		{"invalid reaction", 422, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Reactions.CreateIssueCommentReaction(expectInvalid(ctx), owner, repo, commentID, "thumbsup")
			return r, err
		}},
		{"assign", 201, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Issues.AddAssignees(ctx, owner, repo, issue, []string{"maria"})
			if err == nil && got.GetAssignee().GetLogin() != "maria" {
				t.Errorf("assignee %v", got.GetAssignee())
			}
			return r, err
		}},
		{"unassign", 200, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.RemoveAssignees(ctx, owner, repo, issue, []string{"maria"})
			return r, err
		}},
		{"get file", 200, func(ctx context.Context) (*github.Response, error) {
			f, _, r, err := gh.Repositories.GetContents(ctx, owner, repo, ".github/triagebot.yml", nil)
			if err == nil {
				etag = r.Header.Get("Etag")
				if c, _ := f.GetContent(); c != "needs_triage:\n  enabled: true\n" || etag == "" {
					t.Errorf("content %q etag %q", c, etag)
				}
			}
			return r, err
		}},
		{"get file on default branch by ref", 200, func(ctx context.Context) (*github.Response, error) {
			_, _, r, err := gh.Repositories.GetContents(ctx, owner, repo, ".github/triagebot.yml", &github.RepositoryContentGetOptions{Ref: "main"})
			return r, err
		}},
		{"get unchanged file", 304, func(ctx context.Context) (*github.Response, error) {
			req, err := gh.NewRequest("GET", "repos/octo/hello/contents/.github/triagebot.yml", nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("If-None-Match", etag)
			return gh.Do(ctx, req, nil)
		}},
		{"list a directory", 200, func(ctx context.Context) (*github.Response, error) {
			_, dir, r, err := gh.Repositories.GetContents(ctx, owner, repo, ".github", nil)
			if err == nil && (len(dir) != 1 || dir[0].GetType() != "file" || dir[0].GetPath() != ".github/triagebot.yml" || dir[0].GetHTMLURL() == "") {
				t.Errorf("directory listing: %+v", dir)
			}
			return r, err
		}},
		{"get missing file", 404, func(ctx context.Context) (*github.Response, error) {
			_, _, r, err := gh.Repositories.GetContents(ctx, owner, ".github", "CODE_OF_CONDUCT.md", nil)
			return r, err
		}},
		{"permission of a triager", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Repositories.GetPermissionLevel(ctx, owner, repo, "maria")
			if err == nil && (got.GetPermission() != "read" || got.GetUser().GetRoleName() != "triage") {
				t.Errorf("permission %q role %q", got.GetPermission(), got.GetUser().GetRoleName())
			}
			return r, err
		}},
		{"permission of an unknown user", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Repositories.GetPermissionLevel(ctx, owner, repo, "nobody-here")
			return r, err
		}},
		{"rate limit", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.RateLimit.Get(ctx)
			if err == nil && got.GetCore().Limit != DefaultRateLimit {
				t.Errorf("core limit %d", got.GetCore().Limit)
			}
			return r, err
		}},
		{"repository of another installation", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.Get(ctx, "other", "repo", 1)
			return r, err
		}},
		{"list deliveries", 200, func(ctx context.Context) (*github.Response, error) {
			if err := fake.Flush(ctx); err != nil {
				return nil, err
			}
			got, r, err := app.Apps.ListHookDeliveries(ctx, &github.ListCursorOptions{PerPage: 3})
			if err == nil && (len(got) != 3 || r.Cursor == "") {
				t.Errorf("deliveries: %d, cursor %q", len(got), r.Cursor)
			}
			return r, err
		}},
		{"redeliver", 202, func(ctx context.Context) (*github.Response, error) {
			_, r, err := app.Apps.RedeliverHookDelivery(ctx, fake.Deliveries()[0].ID)
			return r, err
		}},
		{"list open issues, oldest first", 200, func(ctx context.Context) (*github.Response, error) {
			if _, err := fake.OpenIssue("octo/hello", "bob", "Second", "Also."); err != nil {
				return nil, err
			}
			got, r, err := gh.Issues.ListByRepo(ctx, owner, repo, &github.IssueListByRepoOptions{State: "open", Sort: "created",
				Direction: "asc", ListOptions: github.ListOptions{PerPage: 1}})
			if err == nil && (len(got) != 1 || got[0].GetNumber() != issue || r.NextPage != 2) {
				t.Errorf("issues: %d, first #%d, next page %d", len(got), got[0].GetNumber(), r.NextPage)
			}
			return r, err
		}},
		{"redeliver unknown", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := app.Apps.RedeliverHookDelivery(ctx, 123456789)
			return r, err
		}},
		{"installation of a repository", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := app.Apps.FindRepositoryInstallation(ctx, owner, repo)
			if err == nil && got.GetID() != 7 {
				t.Errorf("installation %d", got.GetID())
			}
			return r, err
		}},
		{"repositories of the installation, paginated", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Apps.ListRepos(ctx, &github.ListOptions{PerPage: 1, Page: 2})
			if err == nil && (got.GetTotalCount() != 2 || len(got.Repositories) != 1 || got.Repositories[0].GetFullName() != "octo/.github" || r.NextPage != 0 || r.PrevPage != 1) {
				t.Errorf("repositories: total %d, %d on the page, next %d, prev %d", got.GetTotalCount(), len(got.Repositories), r.NextPage, r.PrevPage)
			}
			return r, err
		}},
		{"installation of a repository without the App", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := app.Apps.FindRepositoryInstallation(ctx, "nobody", "nothing")
			return r, err
		}},
		{"list a directory", 200, func(ctx context.Context) (*github.Response, error) {
			if err := fake.PutFile("octo/hello", ".github/ISSUE_TEMPLATE/bug.yml", []byte("name: Bug\nlabels: [bug]\n")); err != nil {
				return nil, err
			}
			_, dir, r, err := gh.Repositories.GetContents(ctx, owner, repo, ".github", nil)
			if err == nil && (len(dir) != 2 || dir[0].GetName() != "ISSUE_TEMPLATE" || dir[0].GetType() != "dir" || dir[1].GetName() != "triagebot.yml") {
				t.Errorf("directory %+v", dir)
			}
			return r, err
		}},
		{"get repository", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Repositories.Get(ctx, owner, repo)
			if err == nil && (got.GetFullName() != "octo/hello" || got.GetDefaultBranch() != "main") {
				t.Errorf("repository %q default branch %q", got.GetFullName(), got.GetDefaultBranch())
			}
			return r, err
		}},
		{"get repository of another installation", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Repositories.Get(ctx, "other", "repo")
			return r, err
		}},
		{"community profile without a code of conduct", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Repositories.GetCommunityHealthMetrics(ctx, owner, ".github")
			if err == nil && got.GetFiles().GetCodeOfConduct() != nil {
				t.Errorf("code of conduct in a repository without one: %+v", got.GetFiles())
			}
			return r, err
		}},
		{"community profile with a code of conduct", 200, func(ctx context.Context) (*github.Response, error) {
			if err := fake.PutFile("octo/hello", "code_of_conduct.md", []byte("Be kind.")); err != nil {
				return nil, err
			}
			got, r, err := gh.Repositories.GetCommunityHealthMetrics(ctx, owner, repo)
			if err == nil && !strings.HasSuffix(got.GetFiles().GetCodeOfConductFile().GetHTMLURL(), "/code_of_conduct.md") {
				t.Errorf("code of conduct file: %+v", got.GetFiles().GetCodeOfConductFile())
			}
			return r, err
		}},
		{"update label", 200, func(ctx context.Context) (*github.Response, error) {
			got, r, err := gh.Issues.EditLabel(ctx, owner, repo, "priority: low", &github.Label{Color: github.String("c5def5"), Description: github.String("Low priority")})
			if err == nil && (got.GetColor() != "c5def5" || got.GetName() != "priority: low") {
				t.Errorf("updated label %+v", got)
			}
			return r, err
		}},
		{"rename label", 200, func(ctx context.Context) (*github.Response, error) {
			req, err := gh.NewRequest("PATCH", "repos/octo/hello/labels/"+url.PathEscape("priority: low"), map[string]string{"new_name": "priority: lowest"})
			if err != nil {
				return nil, err
			}
			return gh.Do(ctx, req, nil)
		}},
		{"update missing label", 404, func(ctx context.Context) (*github.Response, error) {
			_, r, err := gh.Issues.EditLabel(ctx, owner, repo, "no-such-label", &github.Label{Color: github.String("c5def5")})
			return r, err
		}},
		{"lock", 204, func(ctx context.Context) (*github.Response, error) {
			return gh.Issues.Lock(ctx, owner, repo, issue, &github.LockIssueOptions{LockReason: "off-topic"})
		}},
		{"lock again, no reason", 204, func(ctx context.Context) (*github.Response, error) {
			return gh.Issues.Lock(ctx, owner, repo, issue, nil)
		}},
		{"lock with an invalid reason", 422, func(ctx context.Context) (*github.Response, error) {
			return gh.Issues.Lock(expectInvalid(ctx), owner, repo, issue, &github.LockIssueOptions{LockReason: "boring"})
		}},
		{"lock a missing issue", 404, func(ctx context.Context) (*github.Response, error) {
			return gh.Issues.Lock(ctx, owner, repo, 999, nil)
		}},
		{"unlock", 204, func(ctx context.Context) (*github.Response, error) {
			r, err := gh.Issues.Unlock(ctx, owner, repo, issue)
			if is, _ := fake.Issue("octo/hello", issue); err == nil && is.Locked {
				t.Errorf("still locked after unlock")
			}
			return r, err
		}},
		{"app from a manifest", 201, func(ctx context.Context) (*github.Response, error) {
			anon := newClient(t, srv, prefix, func() string { return "" }) // the code is the credential
			code := manifestCode(t, fake, "/settings/apps/new?state=x", testManifest).Get("code")
			_, r, err := anon.Apps.CompleteAppManifest(ctx, code)
			return r, err
		}},
	}
	var got, want []string
	for _, st := range steps {
		r, err := st.call(ctx)
		code := 0
		if r != nil {
			code = r.StatusCode
		}
		if err != nil && code == 0 {
			t.Fatalf("%s: %v", st.name, err)
		}
		got = append(got, st.name+": "+http.StatusText(code))
		want = append(want, st.name+": "+http.StatusText(st.want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}

	// Authentication failures.
	bad := newClient(t, srv, prefix, func() string { return "token ghs_nope" })
	if _, r, _ := bad.Issues.Get(ctx, owner, repo, issue); r == nil || r.StatusCode != 401 {
		t.Errorf("bad token: %v", r)
	}
	clk.Advance(DefaultTokenTTL)
	if _, r, _ := gh.Issues.Get(ctx, owner, repo, issue); r == nil || r.StatusCode != 401 {
		t.Errorf("expired token: %v", r)
	}

	v.check(t)
	// Every operation answered at least one validated success.
	ops := map[string]bool{}
	for k := range v.seen {
		op, status, _ := strings.Cut(k, " ")
		if status[0] == '2' {
			ops[op] = true
		}
	}
	var missing []string
	for _, item := range v.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if !ops[op.OperationID] {
				missing = append(missing, op.OperationID)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("operations without a validated success: %v", missing)
	}
}
