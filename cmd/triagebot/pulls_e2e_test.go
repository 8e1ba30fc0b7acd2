package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghfake"
)

// prRepo installs the App on a repository with a maintainer (maya), granting perms (nil: the
// manifest's), and opens a pull request by alice.
func prRepo(t *testing.T, l *local, perms map[string]string) (inst int64, repo string, pr int) {
	t.Helper()
	repo = "octo-org/rocket"
	inst, err := l.Fake.InstallApp("octo-org", repo)
	if err != nil {
		t.Fatal(err)
	}
	if perms != nil {
		if err := l.Fake.SetInstallationPermissions(inst, perms); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Fake.SetPermission(repo, "maya", "maintain"); err != nil {
		t.Fatal(err)
	}
	if pr, err = l.Fake.OpenPullRequest(repo, "alice", "Fix the crash on an empty config", "Fixes it."); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	return inst, repo, pr
}

// forbidden are the requests GitHub answered 403.
func forbidden(l *local) []string {
	var out []string
	for _, r := range l.Fake.Requests() {
		if r.Status == 403 {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func TestPullRequestCommandsRunWithThePullRequestsPermission(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	_, repo, pr := prRepo(t, l, nil)

	id := comment(t, l, repo, pr, "maya", "/label bug\n/assign")
	is, _ := l.Fake.Issue(repo, pr)
	if diff := cmp.Diff([]string{"bug"}, is.Labels); diff != "" {
		t.Errorf("labels of the pull request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"maya"}, is.Assignees); diff != "" {
		t.Errorf("assignees of the pull request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"+1"}, botReactions(l, repo, pr, id)); diff != "" {
		t.Errorf("bot reactions (-want +got):\n%s", diff)
	}
	// A hostile comment on the pull request gets the code-of-conduct reminder.
	comment(t, l, repo, pr, "mallory", "you guys suck")
	if c := botComments(l, repo, pr); len(c) != 1 || !strings.Contains(c[0], "triagebot:code-of-conduct:reminder-mallory") {
		t.Errorf("bot comments on the pull request: %q", c)
	}
	if got := forbidden(l); len(got) > 0 {
		t.Errorf("requests refused: %v", got)
	}
	assertNoDeadLetters(t, l)
}

func TestPullRequestsSkippedCleanlyWithoutThePullRequestsPermission(t *testing.T) {
	l, logs := startLocalT(t, localConfig{})
	issuesOnly := map[string]string{"issues": "write", "contents": "read", "metadata": "read", "members": "read"}
	inst, repo, pr := prRepo(t, l, issuesOnly)

	id := comment(t, l, repo, pr, "maya", "/label bug")
	comment(t, l, repo, pr, "maya", "/close")
	comment(t, l, repo, pr, "mallory", "you guys suck")
	is, _ := l.Fake.Issue(repo, pr)
	if len(is.Labels) != 0 || is.State != "open" || len(botReactions(l, repo, pr, id)) != 0 || len(botComments(l, repo, pr)) != 0 {
		t.Errorf("pull request changed without the permission: %+v", is)
	}
	if got := forbidden(l); len(got) > 0 {
		t.Errorf("requests refused: %v", got)
	}
	assertNoDeadLetters(t, l)
	// Issues of the same installation are triaged as ever.
	n, err := l.Fake.OpenIssue(repo, "bob", "Crash on start", "It crashes.")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if got, _ := l.Fake.Issue(repo, n); !cmp.Equal(got.Labels, []string{"needs-triage"}) {
		t.Errorf("issue labels: %v", got.Labels)
	}

	// One log line for the installation, however many pull request events were skipped.
	var lines int
	for _, e := range logs.FilterMessage(handlers.PullRequestsSkippedMessage).All() {
		if e.ContextMap()["installation_id"] == inst {
			lines++
		}
	}
	if lines != 1 {
		t.Errorf("%d log lines about skipped pull requests, want 1", lines)
	}
	// And one note in the repository's audit trail, which says what to do.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	trail, err := l.App.q.AuditTrail(ctx, l.Fake.RepositoryID(repo), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, raw := range trail {
		var rec handlers.AuditRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Result.Action.Rule == handlers.RulePermissions {
			notes = append(notes, rec.Result.Action.Reason)
		}
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "Pull requests") {
		t.Errorf("audit notes: %q", notes)
	}
	// The status page shows it among the recent actions.
	resp, err := http.Get("http://" + l.App.admin.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(page), handlers.AuditPullRequestsSkipped) {
		t.Errorf("the status page does not show the skipped pull requests (err %v)", err)
	}

	// Once the owner accepts the permission, pull requests are handled.
	if err := l.Fake.AcceptPermissions(inst, ghfake.DefaultPermissions()); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	comment(t, l, repo, pr, "maya", "/label bug")
	if got, _ := l.Fake.Issue(repo, pr); !cmp.Equal(got.Labels, []string{"bug"}) {
		t.Errorf("labels after the permission was accepted: %v", got.Labels)
	}
	if got := forbidden(l); len(got) > 0 {
		t.Errorf("requests refused: %v", got)
	}
	assertNoDeadLetters(t, l)
}
