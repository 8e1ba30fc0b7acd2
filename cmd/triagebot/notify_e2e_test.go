package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/notify"
)

// chatServer is a chat webhook endpoint: it records what it receives.
type chatServer struct {
	*httptest.Server
	mu   sync.Mutex
	got  []notify.WebhookPayload
	keys []string // Idempotency-Key headers
}

func newChatServer(t *testing.T) *chatServer {
	t.Helper()
	c := &chatServer{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p notify.WebhookPayload
		if r.URL.Path != "/hooks/secret-token" || json.Unmarshal(body, &p) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.got = append(c.got, p)
		c.keys = append(c.keys, r.Header.Get("Idempotency-Key"))
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *chatServer) payloads() []notify.WebhookPayload {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// serverConfig writes a TRIAGEBOT_CONFIG file.
func serverConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "triagebot.yml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// streamEmpty reports whether a work-queue stream holds no message: every notification (or
// timer) was taken and acknowledged.
func streamEmpty(t *testing.T, l *local, stream string) func() bool {
	return func() bool { return streamMsgs(t, l, stream) == 0 }
}

// streamMsgs is the number of messages a stream holds.
func streamMsgs(t *testing.T, l *local, stream string) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := l.App.q.JetStream().Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func notifyRepo(t *testing.T, l *local, routes string) string {
	t.Helper()
	const repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.PutFile(repo, ".github/triagebot.yml", []byte("notifications:\n  routes:\n"+routes)); err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.SetPermission(repo, "maya", "maintain"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	return repo
}

func TestNotificationsArriveOnceAtAWebhookAndOnTheIssue(t *testing.T) {
	chat := newChatServer(t)
	cfg := serverConfig(t, `
channels:
  ops:
    type: webhook
    url: `+chat.URL+`/hooks/secret-token
    digest: 0
  team:
    type: github
    mention: ["@octo-org/maintainers"]
    digest: 0
`)
	l, logs := startLocalT(t, localConfig{Settings: func(s *settings) { s.ConfigFile = cfg }})
	repo := notifyRepo(t, l, `
    - on: issue_opened
      to: [ops, team, nowhere]
    - on: labeled
      label: bug
      to: [ops]
`)
	n, err := l.Fake.OpenIssue(repo, "alice", "Crash on start @everyone", "It crashes.")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	// GitHub redelivers the opening: the receiver and the notification IDs both drop it.
	for _, d := range l.Fake.Deliveries() {
		if d.Event == "issues" && d.Action == "opened" {
			if err := l.Fake.Redeliver(d.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Fake.AddLabel(repo, n, "maya", "bug"); err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.AddLabel(repo, n, "maya", "documentation"); err != nil { // no route
		t.Fatal(err)
	}
	settle(t, l)
	waitFor(t, "two webhook posts", func() bool { return len(chat.payloads()) >= 2 })
	l.App.dispatcher.FlushNow()
	waitFor(t, "the notification stream to empty", streamEmpty(t, l, notify.Stream))

	got := chat.payloads()
	var items []notify.WebhookItem
	for _, p := range got {
		items = append(items, p.Items...)
	}
	url := "https://github.com/" + repo + "/issues/1"
	want := []notify.WebhookItem{
		{Route: "issue_opened", Repo: repo, Number: n, Title: "Crash on start @everyone", URL: url, Event: "opened",
			Reason: "a notification route asks for issue_opened"},
		{Route: "labeled", Repo: repo, Number: n, Title: "Crash on start @everyone", URL: url, Event: "labeled bug",
			Reason: "a notification route asks for labeled"},
	}
	ignore := cmpopts.IgnoreFields(notify.WebhookItem{}, "ID", "Text", "At")
	if diff := cmp.Diff(want, items, ignore); diff != "" {
		t.Fatalf("webhook items (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(items[0].ID, ".issue_opened.ops") || !strings.HasSuffix(items[1].ID, ".labeled.ops.bug") {
		t.Errorf("notification IDs %q, %q: want delivery.route.channel[.label]", items[0].ID, items[1].ID)
	}
	for _, p := range got {
		if strings.Contains(p.Text, "@everyone") {
			t.Errorf("chat text can ping: %q", p.Text)
		}
	}

	// The github channel: one comment on the issue, mentioning the team from TRIAGEBOT_CONFIG.
	var mentions []string
	for _, c := range botComments(l, repo, n) {
		if strings.Contains(c, "@octo-org/maintainers") {
			mentions = append(mentions, c)
		}
	}
	if len(mentions) != 1 || strings.Contains(mentions[0], "@everyone") {
		t.Fatalf("github channel comments: %q, want one that pings only the team", mentions)
	}

	// The channel the repository invented is skipped, said once in the log and in the audit.
	if w := logs.FilterMessageSnippet("the server does not define").Len(); w != 1 {
		t.Errorf("%d warnings about the unknown channel, want 1", w)
	}
	trail, err := l.App.q.AuditTrail(context.Background(), l.Fake.RepositoryID(repo), n, 0)
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, raw := range trail {
		var rec handlers.AuditRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Result.Action.Type == "notify" {
			details = append(details, string(rec.Result.Status)+": "+rec.Result.Detail)
		}
	}
	wantDetails := []string{
		"done: enqueued for ops, team; unknown channels skipped: nowhere (channels are defined in TRIAGEBOT_CONFIG)",
		"done: enqueued for ops",
	}
	if diff := cmp.Diff(wantDetails, details); diff != "" {
		t.Errorf("audit of the notify actions (-want +got):\n%s", diff)
	}
}

func TestNotificationsDigestABurstIntoOnePost(t *testing.T) {
	chat := newChatServer(t)
	cfg := serverConfig(t, `
channels:
  ops:
    type: webhook
    url: `+chat.URL+`/hooks/secret-token
    digest: 1h
`)
	l, _ := startLocalT(t, localConfig{Settings: func(s *settings) { s.ConfigFile = cfg }})
	repo := notifyRepo(t, l, `
    - on: issue_opened
      to: [ops]
`)
	for i := 0; i < 3; i++ {
		if _, err := l.Fake.OpenIssue(repo, "alice", "Burst", "b"); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, l)
	waitFor(t, "three notifications held for the digest", func() bool { return l.App.dispatcher.Pending("ops") == 3 })
	if got := len(chat.payloads()); got != 0 {
		t.Fatalf("%d posts inside the digest window", got)
	}
	l.App.dispatcher.FlushNow()
	got := chat.payloads()
	if len(got) != 1 || len(got[0].Items) != 3 || !strings.HasPrefix(got[0].Text, "triagebot: 3 notifications") {
		t.Fatalf("digest posts %+v, want one with 3 items", got)
	}
}

func TestNotificationsUntriagedReportedOnce(t *testing.T) {
	chat := newChatServer(t)
	cfg := serverConfig(t, `
channels:
  ops:
    type: webhook
    url: `+chat.URL+`/hooks/secret-token
    digest: 0
`)
	l, _ := startLocalT(t, localConfig{Settings: func(s *settings) { s.ConfigFile = cfg }})
	repo := notifyRepo(t, l, `
    - on: untriaged
      after: 2s
      to: [ops]
`)
	left, err := l.Fake.OpenIssue(repo, "alice", "Nobody looked", "b")
	if err != nil {
		t.Fatal(err)
	}
	triaged, err := l.Fake.OpenIssue(repo, "bob", "Looked at quickly", "b")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	// Triaged well before its check is due (the events take milliseconds, the route 2s).
	if err := l.Fake.AddLabel(repo, triaged, "maya", "bug"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if is, _ := l.Fake.Issue(repo, triaged); slices.Contains(is.Labels, "needs-triage") {
		t.Fatalf("#%d still carries needs-triage after a maintainer labelled it: %v", triaged, is.Labels)
	}
	waitFor(t, "the untriaged checks to be done", streamEmpty(t, l, handlers.TimersStream))
	waitFor(t, "the notification stream to empty", streamEmpty(t, l, notify.Stream))
	var items []notify.WebhookItem
	for _, p := range chat.payloads() {
		items = append(items, p.Items...)
	}
	if len(items) != 1 || items[0].Number != left || items[0].Route != "untriaged" || items[0].ID != notify.UntriagedID(repo, left, "ops") {
		t.Fatalf("untriaged reports %+v, want one for #%d", items, left)
	}
}

func TestNotificationsFailingWebhookIsRetriedAndArrivesOnce(t *testing.T) {
	chat := newChatServer(t)
	var mu sync.Mutex
	failures := 2
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := failures > 0
		failures--
		mu.Unlock()
		if fail {
			http.Error(w, "upstream down", http.StatusBadGateway)
			return
		}
		chat.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(flaky.Close)
	cfg := serverConfig(t, `
channels:
  ops:
    type: webhook
    url: `+flaky.URL+`/hooks/secret-token
    digest: 0
`)
	l, _ := startLocalT(t, localConfig{Settings: func(s *settings) { s.ConfigFile = cfg }})
	repo := notifyRepo(t, l, `
    - on: issue_opened
      to: [ops]
`)
	if _, err := l.Fake.OpenIssue(repo, "alice", "Flaky", "b"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	waitFor(t, "the notification stream to empty", streamEmpty(t, l, notify.Stream))
	got := chat.payloads()
	if len(got) != 1 || len(got[0].Items) != 1 {
		t.Fatalf("webhook received %+v, want the one notification once", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if failures > 0 {
		t.Fatalf("the endpoint failed only %d times", 2-failures)
	}
}

func TestNotificationsGitHubChannelOnlyLogsInDryRun(t *testing.T) {
	cfg := serverConfig(t, `
channels:
  team:
    type: github
    mention: ["@octo-org/maintainers"]
    digest: 0
`)
	l, logs := startLocalT(t, localConfig{Settings: func(s *settings) { s.ConfigFile = cfg; s.DryRun = true }})
	repo := notifyRepo(t, l, `
    - on: issue_opened
      to: [team]
`)
	n, err := l.Fake.OpenIssue(repo, "alice", "Dry", "b")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	waitFor(t, "the notification stream to empty", streamEmpty(t, l, notify.Stream))
	if c := botComments(l, repo, n); len(c) != 0 {
		t.Fatalf("dry run posted %q", c)
	}
	if logs.FilterMessage("dry run: notification comment not posted").Len() != 1 {
		t.Fatal("the dry-run comment was not logged once")
	}
}

func TestNotificationsFromCommands(t *testing.T) {
	chat := newChatServer(t)
	cfg := serverConfig(t, `
channels:
  ops:
    type: webhook
    url: `+chat.URL+`/hooks/secret-token
    digest: 0
`)
	l, _ := startLocalT(t, localConfig{Settings: func(s *settings) { s.ConfigFile = cfg }})
	repo := notifyRepo(t, l, `
    - on: notify_command
      to: [ops]
    - on: labeled
      label: security
      to: [ops]
`)
	n, err := l.Fake.OpenIssue(repo, "alice", "Token in logs", "b")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	comment(t, l, repo, n, "alice", "/notify this leaks a token, cc @octo-org/everyone")
	comment(t, l, repo, n, "maya", "/label security")
	waitFor(t, "two webhook posts", func() bool { return len(chat.payloads()) >= 2 })
	waitFor(t, "the notification stream to empty", streamEmpty(t, l, notify.Stream))
	var routes []string
	for _, p := range chat.payloads() {
		for _, it := range p.Items {
			routes = append(routes, it.Route+": "+it.Event)
		}
		if strings.Contains(p.Text, "@octo-org/everyone") {
			t.Errorf("the /notify text can ping a team: %q", p.Text)
		}
	}
	if diff := cmp.Diff([]string{"notify_command: /notify", "labeled: labeled security"}, routes); diff != "" {
		t.Fatalf("notifications (-want +got):\n%s", diff)
	}
}
