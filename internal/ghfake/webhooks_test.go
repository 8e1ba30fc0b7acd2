package ghfake

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
	"go.uber.org/zap/zaptest"
)

const testSecret = "It's a Secret to Everybody"

type hookFixture struct {
	fake *Server
	recv *hookReceiver
	gh   *github.Client
}

func newHookFixture(t *testing.T, opts ...Option) *hookFixture {
	t.Helper()
	recv := &hookReceiver{}
	hooks := httptest.NewServer(recv)
	t.Cleanup(hooks.Close)
	fake := New(append([]Option{WithInstallation(7, "octo", "octo/hello"), WithApp(42, "triagebot"),
		WithLogger(zaptest.NewLogger(t))}, opts...)...)
	t.Cleanup(fake.Close)
	fake.SetWebhook(hooks.URL, testSecret)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	tok, _, err := fake.NewInstallationToken(7)
	if err != nil {
		t.Fatal(err)
	}
	return &hookFixture{fake: fake, recv: recv, gh: newClient(t, api, "/", func() string { return "token " + tok })}
}

// hookSummary is what a test checks of one decoded webhook.
type hookSummary struct {
	Event, Action, Sender, SenderType string
	Installation, RepoID              int64
	Issue                             int
	Labels                            []string
	Comments                          int
	Association                       string
	Label, Assignee, Comment, From    string
	Pushed                            []string
}

func summarise(t *testing.T, h receivedHook) hookSummary {
	t.Helper()
	event := h.header.Get("X-GitHub-Event")
	if err := github.ValidateSignature(h.header.Get("X-Hub-Signature-256"), h.body, []byte(testSecret)); err != nil {
		t.Errorf("%s: signature: %v", event, err)
	}
	if _, err := github.ValidatePayloadFromBody("application/json", bytesReader(h.body), h.header.Get("X-Hub-Signature-256"), []byte(testSecret)); err != nil {
		t.Errorf("%s: ValidatePayloadFromBody: %v", event, err)
	}
	if h.header.Get("Content-Type") != "application/json" {
		t.Errorf("%s: content type %q", event, h.header.Get("Content-Type"))
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(h.header.Get("X-GitHub-Delivery")) {
		t.Errorf("%s: delivery id %q", event, h.header.Get("X-GitHub-Delivery"))
	}
	ev, err := github.ParseWebHook(event, h.body)
	if err != nil {
		t.Fatalf("%s: ParseWebHook: %v", event, err)
	}
	s := hookSummary{Event: event}
	labels := func(ls []*github.Label) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.GetName())
		}
		return out
	}
	switch e := ev.(type) {
	case *github.IssuesEvent:
		s.Action, s.Sender, s.SenderType = e.GetAction(), e.GetSender().GetLogin(), e.GetSender().GetType()
		s.Installation, s.RepoID, s.Issue = e.GetInstallation().GetID(), e.GetRepo().GetID(), e.GetIssue().GetNumber()
		s.Labels, s.Comments, s.Association = labels(e.GetIssue().Labels), e.GetIssue().GetComments(), e.GetIssue().GetAuthorAssociation()
		s.Label, s.Assignee = e.GetLabel().GetName(), e.GetAssignee().GetLogin()
		s.From = e.GetChanges().GetBody().GetFrom()
	case *github.IssueCommentEvent:
		s.Action, s.Sender, s.SenderType = e.GetAction(), e.GetSender().GetLogin(), e.GetSender().GetType()
		s.Installation, s.RepoID, s.Issue = e.GetInstallation().GetID(), e.GetRepo().GetID(), e.GetIssue().GetNumber()
		s.Labels, s.Comments, s.Association = labels(e.GetIssue().Labels), e.GetIssue().GetComments(), e.GetComment().GetAuthorAssociation()
		s.Comment, s.From = e.GetComment().GetBody(), e.GetChanges().GetBody().GetFrom()
	case *github.PushEvent:
		s.Action, s.Sender, s.SenderType = e.GetRef(), e.GetSender().GetLogin(), e.GetSender().GetType()
		s.Installation, s.RepoID = e.GetInstallation().GetID(), e.GetRepo().GetID()
		for _, c := range e.Commits {
			s.Pushed = append(s.Pushed, c.Added...)
			s.Pushed = append(s.Pushed, c.Modified...)
		}
	case *github.InstallationEvent:
		s.Action, s.Sender, s.SenderType = e.GetAction(), e.GetSender().GetLogin(), e.GetSender().GetType()
		s.Installation = e.GetInstallation().GetID()
		for _, r := range e.Repositories {
			s.Pushed = append(s.Pushed, r.GetFullName())
		}
	case *github.InstallationRepositoriesEvent:
		s.Action, s.Sender, s.SenderType = e.GetAction(), e.GetSender().GetLogin(), e.GetSender().GetType()
		s.Installation = e.GetInstallation().GetID()
		for _, r := range e.RepositoriesAdded {
			s.Pushed = append(s.Pushed, r.GetFullName())
		}
	default:
		t.Fatalf("%s: unexpected type %T", event, ev)
	}
	return s
}

func TestWebhooks(t *testing.T) {
	const repo = "octo/hello"
	f := newHookFixture(t)
	ctx := testCtx(t)
	fake := f.fake
	repoID := fake.RepositoryID(repo)
	bot := fake.BotLogin()
	if bot != "triagebot[bot]" {
		t.Fatalf("bot login %q", bot)
	}
	if err := fake.SetPermission(repo, "maria", "maintain"); err != nil {
		t.Fatal(err)
	}
	var number int
	var commentID int64
	user := func(action, sender string) hookSummary {
		return hookSummary{Event: "issues", Action: action, Sender: sender, SenderType: "User", Installation: 7, RepoID: repoID, Issue: 1}
	}
	botIssue := func(action string) hookSummary {
		s := user(action, bot)
		s.SenderType = "Bot"
		return s
	}
	with := func(s hookSummary, edit func(*hookSummary)) hookSummary { edit(&s); return s }

	tests := []struct {
		name string
		give func() error
		want []hookSummary
	}{
		{"user opens an issue with a template label", func() (err error) {
			number, err = fake.OpenIssue(repo, "alice", "Crash", "It crashes", "bug")
			return err
		}, []hookSummary{
			with(user("opened", "alice"), func(s *hookSummary) { s.Labels, s.Association = []string{"bug"}, "NONE" }),
			with(user("labeled", "alice"), func(s *hookSummary) { s.Labels, s.Label, s.Association = []string{"bug"}, "bug", "NONE" }),
		}},
		{"user comments", func() (err error) {
			commentID, err = fake.Comment(repo, number, "bob", "me too")
			return err
		}, []hookSummary{{Event: "issue_comment", Action: "created", Sender: "bob", SenderType: "User", Installation: 7,
			RepoID: repoID, Issue: 1, Labels: []string{"bug"}, Comments: 1, Association: "NONE", Comment: "me too"}}},
		{"user edits the comment", func() error { return fake.EditComment(repo, commentID, "bob", "me too!") },
			[]hookSummary{{Event: "issue_comment", Action: "edited", Sender: "bob", SenderType: "User", Installation: 7,
				RepoID: repoID, Issue: 1, Labels: []string{"bug"}, Comments: 1, Association: "NONE", Comment: "me too!", From: "me too"}}},
		{"bot adds a label", func() error {
			_, _, err := f.gh.Issues.AddLabelsToIssue(ctx, "octo", "hello", number, []string{"needs-triage", "bug"})
			return err
		}, []hookSummary{with(botIssue("labeled"), func(s *hookSummary) {
			s.Labels, s.Label, s.Association, s.Comments = []string{"bug", "needs-triage"}, "needs-triage", "NONE", 1
		})}},
		{"bot comments and edits", func() error {
			c, _, err := f.gh.Issues.CreateComment(ctx, "octo", "hello", number, &github.IssueComment{Body: github.String("hi")})
			if err != nil {
				return err
			}
			_, _, err = f.gh.Issues.EditComment(ctx, "octo", "hello", c.GetID(), &github.IssueComment{Body: github.String("hello")})
			return err
		}, []hookSummary{
			{Event: "issue_comment", Action: "created", Sender: bot, SenderType: "Bot", Installation: 7, RepoID: repoID, Issue: 1,
				Labels: []string{"bug", "needs-triage"}, Comments: 2, Association: "NONE", Comment: "hi"},
			{Event: "issue_comment", Action: "edited", Sender: bot, SenderType: "Bot", Installation: 7, RepoID: repoID, Issue: 1,
				Labels: []string{"bug", "needs-triage"}, Comments: 2, Association: "NONE", Comment: "hello", From: "hi"},
		}},
		{"maintainer labels, bot removes needs-triage", func() error {
			if err := fake.AddLabel(repo, number, "maria", "confirmed"); err != nil {
				return err
			}
			_, err := f.gh.Issues.RemoveLabelForIssue(ctx, "octo", "hello", number, "needs-triage")
			return err
		}, []hookSummary{
			with(user("labeled", "maria"), func(s *hookSummary) {
				s.Labels, s.Label, s.Association, s.Comments = []string{"bug", "needs-triage", "confirmed"}, "confirmed", "NONE", 2
			}),
			with(botIssue("unlabeled"), func(s *hookSummary) {
				s.Labels, s.Label, s.Association, s.Comments = []string{"bug", "confirmed"}, "needs-triage", "NONE", 2
			}),
		}},
		{"bot assigns and unassigns", func() error {
			if _, _, err := f.gh.Issues.AddAssignees(ctx, "octo", "hello", number, []string{"maria"}); err != nil {
				return err
			}
			_, _, err := f.gh.Issues.RemoveAssignees(ctx, "octo", "hello", number, []string{"maria"})
			return err
		}, []hookSummary{
			with(botIssue("assigned"), func(s *hookSummary) {
				s.Labels, s.Assignee, s.Association, s.Comments = []string{"bug", "confirmed"}, "maria", "NONE", 2
			}),
			with(botIssue("unassigned"), func(s *hookSummary) {
				s.Labels, s.Assignee, s.Association, s.Comments = []string{"bug", "confirmed"}, "maria", "NONE", 2
			}),
		}},
		{"bot closes, user reopens", func() error {
			if _, _, err := f.gh.Issues.Edit(ctx, "octo", "hello", number, &github.IssueRequest{State: github.String("closed")}); err != nil {
				return err
			}
			return fake.ReopenIssue(repo, number, "alice")
		}, []hookSummary{
			with(botIssue("closed"), func(s *hookSummary) { s.Labels, s.Association, s.Comments = []string{"bug", "confirmed"}, "NONE", 2 }),
			with(user("reopened", "alice"), func(s *hookSummary) { s.Labels, s.Association, s.Comments = []string{"bug", "confirmed"}, "NONE", 2 }),
		}},
		{"maintainer comments as a collaborator, then deletes", func() error {
			id, err := fake.Comment(repo, number, "maria", "/triage")
			if err != nil {
				return err
			}
			return fake.DeleteComment(repo, id, "maria")
		}, []hookSummary{
			{Event: "issue_comment", Action: "created", Sender: "maria", SenderType: "User", Installation: 7, RepoID: repoID, Issue: 1,
				Labels: []string{"bug", "confirmed"}, Comments: 3, Association: "COLLABORATOR", Comment: "/triage"},
			{Event: "issue_comment", Action: "deleted", Sender: "maria", SenderType: "User", Installation: 7, RepoID: repoID, Issue: 1,
				Labels: []string{"bug", "confirmed"}, Comments: 2, Association: "COLLABORATOR", Comment: "/triage"},
		}},
		{"owner edits the config", func() error { return fake.PutFile(repo, ".github/triagebot.yml", []byte("a: 1\n")) },
			[]hookSummary{{Event: "push", Action: "refs/heads/main", Sender: "octo", SenderType: "Organization", Installation: 7,
				RepoID: repoID, Pushed: []string{".github/triagebot.yml"}}}},
		{"app installed, repository added", func() error {
			id, err := fake.InstallApp("acme", "acme/web")
			if err != nil {
				return err
			}
			return fake.AddRepository(id, "acme/api")
		}, []hookSummary{
			{Event: "installation", Action: "created", Sender: "acme", SenderType: "Organization", Installation: 101, Pushed: []string{"acme/web"}},
			{Event: "installation_repositories", Action: "added", Sender: "acme", SenderType: "Organization", Installation: 101, Pushed: []string{"acme/api"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.give(); err != nil {
				t.Fatal(err)
			}
			if err := fake.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var got []hookSummary
			for _, h := range f.recv.take() {
				got = append(got, summarise(t, h))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("webhooks (-want +got):\n%s", diff)
			}
		})
	}

	for _, d := range fake.Deliveries() {
		if !d.Delivered || d.StatusCode != http.StatusAccepted || d.Status != "OK" {
			t.Errorf("delivery %d %s.%s: delivered %v, %d %q", d.ID, d.Event, d.Action, d.Delivered, d.StatusCode, d.Status)
		}
	}
}

func TestRedeliverAfterFailure(t *testing.T) {
	f := newHookFixture(t)
	ctx := testCtx(t)
	f.recv.setCode(http.StatusServiceUnavailable)
	if _, err := f.fake.OpenIssue("octo/hello", "alice", "t", "b"); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	first := f.fake.Deliveries()[0]
	f.recv.setCode(0)
	if err := f.fake.Redeliver(first.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	type row struct {
		GUID       string
		Redelivery bool
		Code       int
		Status     string
	}
	var got []row
	for _, d := range f.fake.Deliveries() {
		got = append(got, row{d.GUID, d.Redelivery, d.StatusCode, d.Status})
	}
	want := []row{{first.GUID, false, 503, "Invalid HTTP Response: 503"}, {first.GUID, true, 202, "OK"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	hooks := f.recv.take()
	if len(hooks) != 2 || hooks[0].header.Get("X-GitHub-Delivery") != hooks[1].header.Get("X-GitHub-Delivery") || string(hooks[0].body) != string(hooks[1].body) {
		t.Errorf("redelivery differs from the original: %d hooks", len(hooks))
	}
}

// TestWebhookNotInsideHandler checks that a webhook caused by an API call is delivered after
// the call has been answered, as GitHub does: a receiver that blocks must not block the API.
func TestWebhookNotInsideHandler(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer hooks.Close()
	fake := New(WithInstallation(7, "octo", "octo/hello"), WithWebhook(hooks.URL, "s"))
	defer fake.Close()
	api := httptest.NewServer(fake)
	defer api.Close()
	tok, _, _ := fake.NewInstallationToken(7)
	gh := newClient(t, api, "/", func() string { return "token " + tok })
	ctx := testCtx(t)
	if _, err := fake.OpenIssue("octo/hello", "alice", "t", "b"); err != nil {
		t.Fatal(err)
	}
	<-arrived // the receiver now blocks the sender
	if _, _, err := gh.Issues.AddLabelsToIssue(ctx, "octo", "hello", 1, []string{"x"}); err != nil {
		t.Fatalf("API call blocked by webhook delivery: %v", err)
	}
	close(release)
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, d := range fake.Deliveries() {
		events = append(events, d.Event+"."+d.Action)
	}
	if diff := cmp.Diff([]string{"issues.opened", "issues.labeled"}, events); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestFlushHonoursContext(t *testing.T) {
	block := make(chan struct{})
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer hooks.Close()
	defer close(block)
	fake := New(WithInstallation(7, "octo", "octo/hello"), WithWebhook(hooks.URL, "s"))
	defer fake.Close()
	if _, err := fake.OpenIssue("octo/hello", "alice", "t", "b"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := fake.Flush(ctx); err == nil {
		t.Fatal("Flush with a cancelled context returned nil while a delivery hangs")
	}
}

// While webhooks are dropped, what happens is neither recorded nor sent; afterwards it is again.
func TestDropWebhooks(t *testing.T) {
	f := newHookFixture(t)
	ctx := testCtx(t)
	before := len(f.fake.Deliveries())
	f.fake.DropWebhooks(true)
	if _, err := f.fake.OpenIssue("octo/hello", "alice", "dropped", "b"); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(f.fake.Deliveries()) - before; got != 0 {
		t.Errorf("%d deliveries recorded while dropping, want none", got)
	}
	if hooks := f.recv.take(); len(hooks) != 0 {
		t.Errorf("%d webhooks sent while dropping, want none", len(hooks))
	}
	f.fake.DropWebhooks(false)
	if _, err := f.fake.OpenIssue("octo/hello", "alice", "kept", "b"); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if hooks := f.recv.take(); len(hooks) != 1 || hooks[0].header.Get("X-GitHub-Event") != "issues" {
		t.Errorf("after dropping: %d webhooks, want the opened issue's", len(hooks))
	}
}

// Forgotten deliveries are no longer listed (nor found failed by a reconciler); later ones are.
func TestForgetDeliveries(t *testing.T) {
	f := newHookFixture(t)
	ctx := testCtx(t)
	if _, err := f.fake.OpenIssue("octo/hello", "alice", "forgotten", "b"); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	f.fake.ForgetDeliveries()
	if n := len(f.fake.Deliveries()); n != 0 {
		t.Errorf("%d deliveries listed after forgetting, want none", n)
	}
	if _, err := f.fake.OpenIssue("octo/hello", "alice", "kept", "b"); err != nil {
		t.Fatal(err)
	}
	if err := f.fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if d := f.fake.Deliveries(); len(d) != 1 || d[0].Event != "issues" {
		t.Errorf("deliveries after forgetting: %+v, want the later issue's", d)
	}
}
