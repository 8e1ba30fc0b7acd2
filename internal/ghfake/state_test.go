package ghfake

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestHelpersAndSnapshots(t *testing.T) {
	clk := newClock()
	fake := New(WithClock(clk.Now), WithInstallation(7, "octo", "octo/hello"))
	defer fake.Close()
	const repo = "octo/hello"
	n, err := fake.OpenIssue(repo, "alice", "Crash", "It crashes", "bug", "Bug")
	if err != nil {
		t.Fatal(err)
	}
	steps := []error{
		fake.SetPermission(repo, "maria", "write"),
		fake.SetAuthorAssociation(repo, "carol", "MEMBER"),
		fake.AddLabel(repo, n, "maria", "confirmed"),
		fake.AddLabel(repo, n, "maria", "CONFIRMED"), // already there, any case
		fake.RemoveLabel(repo, n, "maria", "bug"),
		fake.Assign(repo, n, "maria", "maria"),
		fake.Assign(repo, n, "maria", "carol"),
		fake.Unassign(repo, n, "maria", "carol"),
		fake.EditIssue(repo, n, "alice", "Crash on start", "It crashes on start"),
		fake.CloseIssue(repo, n, "maria", "not_planned"),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	c1, _ := fake.Comment(repo, n, "carol", "same here")
	c2, _ := fake.Comment(repo, n, "maria", "duplicate of #2")
	if err := fake.React(repo, c1, "alice", "+1"); err != nil {
		t.Fatal(err)
	}
	if err := fake.React(repo, c1, "alice", "+1"); err != nil { // idempotent, as on GitHub
		t.Fatal(err)
	}
	if err := fake.ReactToIssue(repo, n, "bob", "heart"); err != nil {
		t.Fatal(err)
	}
	got, ok := fake.Issue(repo, n)
	if !ok {
		t.Fatal("issue missing")
	}
	want := Issue{
		Number: 1, Title: "Crash on start", Body: "It crashes on start", Author: "alice", AuthorAssociation: "NONE",
		State: "closed", StateReason: "not_planned", Labels: []string{"confirmed"}, Assignees: []string{"maria"},
		Comments: []Comment{
			{ID: c1, Issue: 1, Body: "same here", User: "carol", AuthorAssociation: "MEMBER", Reactions: []Reaction{{"alice", "+1"}}},
			{ID: c2, Issue: 1, Body: "duplicate of #2", User: "maria", AuthorAssociation: "COLLABORATOR"},
		},
		Reactions: []Reaction{{"bob", "heart"}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Issue{}, "CreatedAt"), cmpopts.IgnoreFields(Comment{}, "CreatedAt", "UpdatedAt")); diff != "" {
		t.Errorf("issue (-want +got):\n%s", diff)
	}
	if !got.CreatedAt.Equal(clk.Now()) {
		t.Errorf("created at %v, want the fake clock's %v", got.CreatedAt, clk.Now())
	}
	wantLabels := []Label{{Name: "bug", Color: "ededed"}, {Name: "confirmed", Color: "ededed"}}
	if diff := cmp.Diff(wantLabels, fake.Labels(repo)); diff != "" {
		t.Errorf("repository labels (-want +got):\n%s", diff)
	}
	if err := fake.RemoveLabel(repo, n, "maria", "confirmed"); err != nil {
		t.Fatal(err)
	}
	if is, _ := fake.Issue(repo, n); is.Labels != nil {
		t.Errorf("labels after removing the last one: %#v, want nil", is.Labels)
	}
	if err := fake.ReopenIssue(repo, n, "alice"); err != nil {
		t.Fatal(err)
	}
	if is, _ := fake.Issue(repo, n); is.State != "open" || is.StateReason != "reopened" {
		t.Errorf("reopened: %q %q", is.State, is.StateReason)
	}

	errs := map[string]error{
		"unknown repo":        fake.AddLabel("octo/nope", 1, "a", "b"),
		"unknown issue":       fake.AddLabel(repo, 99, "a", "b"),
		"label not on issue":  fake.RemoveLabel(repo, n, "a", "nope"),
		"bad reaction":        fake.React(repo, c1, "a", "thumbsup"),
		"unknown comment":     fake.EditComment(repo, 1, "a", "b"),
		"bad permission":      fake.SetPermission(repo, "a", "owner"),
		"bad close reason":    fake.CloseIssue(repo, n, "a", "reopened"),
		"bad repository name": fake.AddRepository(7, "nope"),
		"no installation":     fake.AddRepository(99, "octo/x"),
	}
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, ok := fake.Issue(repo, 99); ok {
		t.Error("issue 99 exists")
	}
	if content, ok := fake.File(repo, "nope"); ok || content != nil {
		t.Error("missing file found")
	}
}

func TestInvalidOptionPanics(t *testing.T) {
	for name, opt := range map[string]Option{
		"prefix":       WithPrefix("api"),
		"app":          WithApp(0, "x"),
		"ttl":          WithTokenTTL(0),
		"rate":         WithRateLimit(0),
		"installation": WithInstallation(1, "o", "not-a-repo"),
		"clock":        WithClock(nil),
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			New(opt).Close()
		})
	}
}

// TestCloseDuringLatency checks that injected latency does not outlive Close.
func TestCloseDuringLatency(t *testing.T) {
	fake := New(WithFaults(Faults{Latency: time.Hour}))
	srv := httptest.NewServer(fake)
	defer srv.Close()
	done := make(chan int)
	go func() {
		resp, err := http.Get(srv.URL + "/rate_limit")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	ctx := testCtx(t)
	if err := fake.Wait(ctx, func() bool { return len(fake.Requests()) == 1 }); err != nil {
		t.Fatal(err)
	}
	fake.Close()
	fake.Close() // idempotent
	if got := <-done; got != http.StatusUnauthorized {
		t.Errorf("status %d, want 401 (no token)", got)
	}
	if err := fake.Wait(ctx, func() bool { return false }); err == nil {
		t.Error("Wait after Close returned nil")
	}
}
