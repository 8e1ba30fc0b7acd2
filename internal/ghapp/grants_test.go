package ghapp

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zaptest"

	"github.com/triagebot/triagebot/internal/ghfake"
	"github.com/triagebot/triagebot/queue"
)

// The permissions an installation granted come from its token answers: no request of their own
// once a token is held, one free request (GET /rate_limit) before.
func TestGrantedReadsTheTokenAnswer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fake := ghfake.New(ghfake.WithPrefix("/api/v3/"), ghfake.WithInstallation(7, "octo", "octo/hello"),
		ghfake.WithInstallation(8, "other", "other/repo"))
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	issuesOnly := map[string]string{"issues": "write", "metadata": "read"}
	if err := fake.SetInstallationPermissions(8, issuesOnly); err != nil {
		t.Fatal(err)
	}
	pr, err := fake.OpenPullRequest("other/repo", "alice", "A fix", "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{AppID: fake.AppID(), PrivateKeyPEM: fake.PrivateKeyPEM(), BaseURL: srv.URL + "/api/v3/", Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	type access struct {
		Access string
		Known  bool
	}
	granted := func(inst int64, perm string) access {
		t.Helper()
		got, known, err := a.Granted(ctx, inst, perm)
		if err != nil {
			t.Fatal(err)
		}
		return access{got, known}
	}
	tests := []struct {
		give string
		inst int64
		perm string
		want access
	}{
		{"manifest's permissions, pull requests", 7, "pull_requests", access{"write", true}},
		{"manifest's permissions, issues", 7, "issues", access{"write", true}},
		{"issues only, pull requests", 8, "pull_requests", access{"", true}},
		{"issues only, issues", 8, "issues", access{"write", true}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, granted(tt.inst, tt.perm)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.give, diff)
		}
	}
	var rateLimits int
	for _, r := range fake.Requests() {
		if r.Route == "/rate_limit" {
			rateLimits++
		}
	}
	if rateLimits != 2 {
		t.Errorf("%d requests to learn two installations' permissions, want 2 (one each)", rateLimits)
	}

	// A request refused for want of permission is a NotAccessibleError, permanent.
	_, _, err = a.Installation(8).Issues.AddLabelsToIssue(ctx, "other", "repo", pr, []string{"bug"})
	var na *NotAccessibleError
	if err = Classify(err); !errors.As(err, &na) || !queue.IsPermanent(err) {
		t.Errorf("labels on a pull request without the permission: %T %v", err, err)
	}

	// The owner accepts: the token is renewed, and its answer says so.
	if err := fake.SetInstallationPermissions(8, ghfake.DefaultPermissions()); err != nil {
		t.Fatal(err)
	}
	if got := granted(8, "pull_requests"); got.Access != "" {
		t.Errorf("before the renewal, the token's permission is the old one: %+v", got)
	}
	a.RenewToken(8)
	if got := granted(8, "pull_requests"); got.Access != "write" {
		t.Errorf("after the renewal: %+v", got)
	}
	if _, _, err := a.Installation(8).Issues.AddLabelsToIssue(ctx, "other", "repo", pr, []string{"bug"}); err != nil {
		t.Errorf("labels on a pull request with the permission: %v", err)
	}
	a.Refused(8, "pull_requests")
	if got := granted(8, "pull_requests"); got != (access{"", true}) {
		t.Errorf("after a refusal: %+v", got)
	}
}
