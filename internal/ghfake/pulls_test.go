package ghfake

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// An installation token is refused what its permissions do not cover, as GitHub refuses it:
// the Issues API on a pull request needs "pull_requests", on an issue "issues".
func TestPullRequestsNeedThePullRequestsPermission(t *testing.T) {
	ctx := testCtx(t)
	fake := New(WithInstallation(7, "octo", "octo/hello"), WithInstallation(8, "other", "other/repo"))
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	issuesOnly := map[string]string{"issues": "write", "metadata": "read"}
	if err := fake.SetInstallationPermissions(8, issuesOnly); err != nil {
		t.Fatal(err)
	}
	client := func(inst int64) *github.Client {
		tok, _, err := fake.NewInstallationToken(inst)
		if err != nil {
			t.Fatal(err)
		}
		return newClient(t, srv, "/", func() string { return "token " + tok })
	}
	full, limited := client(7), client(8)
	for _, repo := range []string{"octo/hello", "other/repo"} {
		must[int](t)(fake.OpenIssue(repo, "alice", "An issue", ""))
		must[int](t)(fake.OpenPullRequest(repo, "alice", "A pull request", ""))
		must[int64](t)(fake.Comment(repo, 2, "bob", "Looks good"))
	}
	status := func(r *github.Response) int {
		if r == nil {
			return 0
		}
		return r.StatusCode
	}
	tests := []struct {
		give string
		gh   *github.Client
		repo string
		call func(ctx context.Context, gh *github.Client, owner, repo string) (*github.Response, error)
		want int
	}{
		{"label an issue, issues only", limited, "other/repo", func(ctx context.Context, gh *github.Client, o, r string) (*github.Response, error) {
			_, res, err := gh.Issues.AddLabelsToIssue(ctx, o, r, 1, []string{"bug"})
			return res, err
		}, 200},
		{"label a pull request, issues only", limited, "other/repo", func(ctx context.Context, gh *github.Client, o, r string) (*github.Response, error) {
			_, res, err := gh.Issues.AddLabelsToIssue(ctx, o, r, 2, []string{"bug"})
			return res, err
		}, 403},
		{"close a pull request, issues only", limited, "other/repo", func(ctx context.Context, gh *github.Client, o, r string) (*github.Response, error) {
			_, res, err := gh.Issues.Edit(ctx, o, r, 2, &github.IssueRequest{State: github.String("closed")})
			return res, err
		}, 403},
		{"comment on a pull request, issues only", limited, "other/repo", func(ctx context.Context, gh *github.Client, o, r string) (*github.Response, error) {
			_, res, err := gh.Issues.CreateComment(ctx, o, r, 2, &github.IssueComment{Body: github.String("hi")})
			return res, err
		}, 403},
		{"lock a pull request, issues only", limited, "other/repo", func(ctx context.Context, gh *github.Client, o, r string) (*github.Response, error) {
			return gh.Issues.Lock(ctx, o, r, 2, nil)
		}, 403},
		{"get a pull request, issues only", limited, "other/repo", func(ctx context.Context, gh *github.Client, o, r string) (*github.Response, error) {
			_, res, err := gh.Issues.Get(ctx, o, r, 2)
			return res, err
		}, 403},
		{"label a pull request, pull requests granted", full, "octo/hello", func(ctx context.Context, gh *github.Client, o, r string) (*github.Response, error) {
			_, res, err := gh.Issues.AddLabelsToIssue(ctx, o, r, 2, []string{"bug"})
			return res, err
		}, 200},
		{"get a pull request, pull requests granted", full, "octo/hello", func(ctx context.Context, gh *github.Client, o, r string) (*github.Response, error) {
			is, res, err := gh.Issues.Get(ctx, o, r, 2)
			if err == nil && (!is.IsPullRequest() || is.GetHTMLURL() == "") {
				t.Errorf("pull request as an issue: %+v", is)
			}
			return res, err
		}, 200},
	}
	var got, want []string
	for _, tt := range tests {
		owner, name, _ := splitRepo(tt.repo)
		res, _ := tt.call(ctx, tt.gh, owner, name)
		got = append(got, tt.give+": "+github.Stringify(status(res)))
		want = append(want, tt.give+": "+github.Stringify(tt.want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}

	// An issue list leaves the pull requests out for a token without the permission.
	for _, tc := range []struct {
		gh   *github.Client
		repo string
		want int
	}{{limited, "repo", 1}, {full, "hello", 2}} {
		owner := "octo"
		if tc.repo == "repo" {
			owner = "other"
		}
		list, _, err := tc.gh.Issues.ListByRepo(ctx, owner, tc.repo, nil)
		if err != nil || len(list) != tc.want {
			t.Errorf("%s/%s issues: %d (%v), want %d", owner, tc.repo, len(list), err, tc.want)
		}
	}

	// The token answer and the installation's events carry the permissions granted.
	app := newClient(t, srv, "/", func() string {
		return "Bearer " + appJWT(t, fake, "1", time.Now().Add(-time.Minute), time.Now().Add(5*time.Minute))
	})
	it, _, err := app.Apps.CreateInstallationToken(ctx, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	if it.GetPermissions().GetPullRequests() != "" || it.GetPermissions().GetIssues() != "write" {
		t.Errorf("token permissions: %+v", it.GetPermissions())
	}
	// A pull request's events are not sent (the App is not subscribed to pull_request).
	for _, d := range fake.Deliveries() {
		if d.Event == "issues" && d.RepositoryID == fake.RepositoryID("octo/hello") && d.Action == "labeled" {
			t.Errorf("issues.labeled sent for a pull request: %+v", d)
		}
	}
}
