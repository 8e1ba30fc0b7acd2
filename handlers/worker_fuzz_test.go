package handlers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// fuzzEvents are the events the receiver stores (handlers' subscribed list).
var fuzzEvents = []string{"issues", "issue_comment", "installation", "installation_repositories", "push"}

type fuzzLookup struct{}

func (fuzzLookup) CodeOfConductURL(context.Context) (string, error) {
	return "https://example.com/CODE_OF_CONDUCT.md", nil
}
func (fuzzLookup) Permission(context.Context, string) (string, error) { return "admin", nil }

type fuzzInstaller struct{}

func (fuzzInstaller) Installed(context.Context, int64, string, string) error        { return nil }
func (fuzzInstaller) Pushed(context.Context, int64, string, string, []string) error { return nil }

// FuzzWorker sends arbitrary bodies, as any of the stored events, through Worker.Handle with the
// real rules, every route, a recording executor and the real store: whatever the body, the
// worker answers with an error or handles it, and never panics. Seeds: every payload in
// testdata/webhooks as every event, plus testdata/fuzz/FuzzWorker.
func FuzzWorker(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "webhooks", "*", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("seed payloads: %v %v", files, err)
	}
	for _, file := range files {
		body, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for i := range fuzzEvents {
			f.Add(uint8(i), 1, body)
		}
	}
	q, _ := queuetest.Queue(f, queue.Config{Partitions: 1})
	ctx := context.Background()
	timers, err := handlers.SetupTimers(ctx, q.JetStream(), handlers.TimersConfig{})
	if err != nil {
		f.Fatal(err)
	}
	var routes []rules.Route
	for _, on := range []string{rules.RouteIssueOpened, rules.RouteLabeled, rules.RoutePriorityChanged, rules.RouteConduct, rules.RouteNotifyCommand} {
		routes = append(routes, rules.Route{On: on, To: []string{"ops", "team"}})
	}
	routes = append(routes, rules.Route{On: rules.RouteUntriaged, After: "1h", To: []string{"ops"}})
	w, err := handlers.NewWorker(handlers.WorkerConfig{
		Executor:      &fakeExecutor{},
		Config:        handlers.StaticConfig(routed(routes...)),
		Store:         q,
		Logger:        zap.NewNop(),
		BotLogin:      "triagebot[bot]",
		Lookup:        func(rules.Target) rules.Lookup { return fuzzLookup{} },
		Installer:     fuzzInstaller{},
		ConfigWatcher: fuzzInstaller{},
		Notifier:      &fakeNotifier{channels: channels()},
		Untriaged:     timers,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, event uint8, number int, body []byte) {
		m := queue.Message{Event: fuzzEvents[int(event)%len(fuzzEvents)], DeliveryID: "fuzz", InstallationID: 1, RepoID: 1, Number: number, Body: body, Attempt: 1}
		_ = w.Handle(ctx, m) // an error is an answer; a panic fails the target
	})
}
