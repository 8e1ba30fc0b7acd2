package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

var testNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// fakeNotifier records what is enqueued and fails as told.
type fakeNotifier struct {
	mu       sync.Mutex
	channels map[string]notify.ChannelConfig
	got      []notify.Notification
	errs     []error
}

func (f *fakeNotifier) Enqueue(_ context.Context, n notify.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		if err != nil {
			return err
		}
	}
	f.got = append(f.got, n)
	return nil
}

func (f *fakeNotifier) Channels() map[string]notify.ChannelConfig { return f.channels }

func channels() map[string]notify.ChannelConfig {
	return map[string]notify.ChannelConfig{
		"ops":  {Name: "ops", Type: notify.TypeWebhook, URL: "https://chat.example/hook"},
		"team": {Name: "team", Type: notify.TypeGitHub, Mention: []string{"@octo/maintainers"}},
	}
}

func routed(routes ...rules.Route) rules.Config {
	cfg := rules.DefaultConfig()
	cfg.Notifications.Routes = routes
	return cfg
}

func notifyWorker(t *testing.T, q *queue.Queue, cfg rules.Config, n handlers.Notifier, log *zap.Logger) *handlers.Worker {
	t.Helper()
	if log == nil {
		log = zap.NewNop()
	}
	w, err := handlers.NewWorker(handlers.WorkerConfig{
		Executor: &fakeExecutor{},
		Config:   handlers.StaticConfig(cfg),
		Store:    q,
		Logger:   log,
		Notifier: n,
		Now:      func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func notifyAudit(t *testing.T, q *queue.Queue) []string {
	t.Helper()
	trail, err := q.AuditTrail(context.Background(), 186853002, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, raw := range trail {
		var rec handlers.AuditRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Result.Action.Type == rules.Notify {
			out = append(out, string(rec.Result.Status)+": "+rec.Result.Detail)
		}
	}
	return out
}

func TestWorkerRoutesNotifyActionsToTheServersChannels(t *testing.T) {
	tests := []struct {
		name      string
		give      []rules.Route
		want      []string // notification IDs
		wantAudit []string
		wantWarn  int
	}{
		{
			name:      "one route, two channels",
			give:      []rules.Route{{On: rules.RouteIssueOpened, To: []string{"ops", "team"}}},
			want:      []string{"d-1.issue_opened.ops", "d-1.issue_opened.team"},
			wantAudit: []string{"done: enqueued for ops, team"},
		},
		{
			name: "two routes to one channel send once",
			give: []rules.Route{
				{On: rules.RouteIssueOpened, To: []string{"ops"}},
				{On: rules.RouteIssueOpened, To: []string{"ops", "team"}},
			},
			want:      []string{"d-1.issue_opened.ops", "d-1.issue_opened.team"},
			wantAudit: []string{"done: enqueued for ops, team"},
		},
		{
			name:      "a channel the repository invented is skipped",
			give:      []rules.Route{{On: rules.RouteIssueOpened, To: []string{"ops", "https://evil.example", "mine"}}},
			want:      []string{"d-1.issue_opened.ops"},
			wantAudit: []string{"done: enqueued for ops; unknown channels skipped: https://evil.example, mine (channels are defined in TRIAGEBOT_CONFIG)"},
			wantWarn:  1,
		},
		{
			name:      "only unknown channels",
			give:      []rules.Route{{On: rules.RouteIssueOpened, To: []string{"nowhere"}}},
			wantAudit: []string{"skipped: unknown channels skipped: nowhere (channels are defined in TRIAGEBOT_CONFIG)"},
			wantWarn:  1,
		},
		{
			name: "routes of other events do not fire",
			give: []rules.Route{{On: rules.RouteLabeled, Label: "bug", To: []string{"ops"}}, {On: rules.RouteUntriaged, After: "1h", To: []string{"ops"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
			core, logs := observer.New(zapcore.WarnLevel)
			n := &fakeNotifier{channels: channels()}
			w := notifyWorker(t, q, routed(tt.give...), n, zap.New(core))
			if err := w.Handle(context.Background(), message(t, "issues", "issues/opened.json", "d-1")); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, got := range n.got {
				ids = append(ids, got.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("enqueued (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAudit, notifyAudit(t, q)); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
			if got := logs.Len(); got != tt.wantWarn {
				t.Errorf("%d warnings, want %d: %v", got, tt.wantWarn, logs.All())
			}
		})
	}
}

func TestWorkerNotificationCarriesTheIssue(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	n := &fakeNotifier{channels: channels()}
	w := notifyWorker(t, q, routed(rules.Route{On: rules.RouteIssueOpened, To: []string{"ops"}}), n, nil)
	m := message(t, "issues", "issues/opened.json", "d-1")
	m.InstallationID = 42
	if err := w.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(n.got) != 1 {
		t.Fatalf("enqueued %+v", n.got)
	}
	got := n.got[0]
	got.Text = ""
	want := notify.Notification{
		ID: "d-1.issue_opened.ops", Channel: "ops", Route: "issue_opened", Repo: "Codertocat/Hello-World", RepoID: 186853002, Number: 1,
		Title: "Spelling error in the README file", URL: "https://github.com/Codertocat/Hello-World/issues/1",
		Event: "opened", Reason: "a notification route asks for issue_opened", At: testNow,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("notification (-want +got):\n%s", diff)
	}
	if !strings.Contains(n.got[0].Text, "New issue Codertocat/Hello-World#1") {
		t.Errorf("text %q", n.got[0].Text)
	}
}

func TestWorkerRemembersTheInstallationForGitHubChannels(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	n := &fakeNotifier{channels: channels()}
	w := notifyWorker(t, q, routed(rules.Route{On: rules.RouteIssueOpened, To: []string{"team"}}), n, nil)
	m := message(t, "issues", "issues/opened.json", "d-1")
	m.InstallationID = 42
	if err := w.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var inst handlers.RepoInstallation
	if _, err := q.LoadMemory(context.Background(), handlers.InstallationKey("codertocat/hello-world"), &inst); err != nil || inst.ID != 42 {
		t.Fatalf("remembered installation %+v, %v; want 42", inst, err)
	}
}

func TestWorkerEnqueueFailureIsRetriedWithoutDoubles(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	n := &fakeNotifier{channels: channels(), errs: []error{nil, errors.New("JetStream timeout")}}
	w := notifyWorker(t, q, routed(rules.Route{On: rules.RouteIssueOpened, To: []string{"ops", "team"}}), n, nil)
	m := message(t, "issues", "issues/opened.json", "d-1")
	err := w.Handle(context.Background(), m)
	if err == nil || queue.IsPermanent(err) {
		t.Fatalf("err = %v, want a transient error", err)
	}
	m.Attempt = 2
	if err := w.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	// ops was enqueued twice under one ID (the queue drops the second); team once.
	var ids []string
	for _, got := range n.got {
		ids = append(ids, got.ID)
	}
	want := []string{"d-1.issue_opened.ops", "d-1.issue_opened.ops", "d-1.issue_opened.team"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Fatalf("enqueued (-want +got):\n%s", diff)
	}
	wantAudit := []string{"failed: enqueued for ops; enqueue failed for team (retried)", "done: enqueued for ops, team"}
	if diff := cmp.Diff(wantAudit, notifyAudit(t, q)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestWorkerNotificationsThroughTheRealQueueAreDeduplicated(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	nq, err := notify.Setup(ctx, q.JetStream(), notify.Config{Channels: channels()})
	if err != nil {
		t.Fatal(err)
	}
	w := notifyWorker(t, q, routed(rules.Route{On: rules.RouteIssueOpened, To: []string{"ops"}}), nq, nil)
	m := message(t, "issues", "issues/opened.json", "d-1")
	for i := 1; i <= 2; i++ {
		m.Attempt = i
		if err := w.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := queuetest.Msgs(t, q.JetStream(), notify.Stream); n != 1 {
		t.Fatalf("%d notifications stored for one event handled twice, want 1", n)
	}
}

func TestHistoryEntriesFromAuditRecords(t *testing.T) {
	recs := []handlers.AuditRecord{
		{Time: testNow, DeliveryID: "d-1", Result: rules.Result{Status: rules.StatusDone,
			Action: rules.Action{Rule: "needs-triage", Type: rules.AddLabels, Labels: []string{"needs-triage"}, Reason: "new issue"}}},
		{Time: testNow.Add(time.Hour), DeliveryID: "d-2", Result: rules.Result{Status: rules.StatusSkipped,
			Action: rules.Action{Rule: "commands", Type: rules.RemoveLabel, Label: "bug", Reason: "/remove-label by @maya"}}},
	}
	var raw []json.RawMessage
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	raw = append(raw, json.RawMessage(`not json`))
	want := []rules.HistoryEntry{
		{Time: testNow, Rule: "needs-triage", Type: "add_labels", Reason: "new issue", Status: "done", DeliveryID: "d-1", Labels: []string{"needs-triage"}},
		{Time: testNow.Add(time.Hour), Rule: "commands", Type: "remove_label", Reason: "/remove-label by @maya", Status: "skipped", DeliveryID: "d-2", Label: "bug"},
	}
	if diff := cmp.Diff(want, handlers.HistoryEntries(raw)); diff != "" {
		t.Fatalf("history (-want +got):\n%s", diff)
	}
}

// commentMessage is issue_comment.created with body as the comment.
func commentMessage(t *testing.T, id, body string) queue.Message {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(payload(t, "issue_comment/created.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["comment"].(map[string]any)["body"] = body
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return queue.Message{Event: "issue_comment", DeliveryID: id, RepoID: 186853002, Number: 1, Body: b, Attempt: 1}
}

func TestWorkerWhyAnswersFromTheAuditTrail(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	exec := &fakeExecutor{}
	w := newWorker(t, q, exec, "triagebot[bot]")
	ctx := context.Background()
	if err := w.Handle(ctx, message(t, "issues", "issues/opened.json", "d-1")); err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(ctx, commentMessage(t, "d-2", "/why")); err != nil {
		t.Fatal(err)
	}
	var body string
	for _, a := range exec.calls[len(exec.calls)-1] {
		if a.Type == rules.Comment {
			body = a.Body
		}
	}
	if !strings.Contains(body, "| 2026-11-22 10:00 | needs-triage | added `needs-triage` |") {
		t.Fatalf("/why answer:\n%s", body)
	}
}
