package handlers_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// fuzzEvents are the events the receiver stores (handlers' subscribed list), and the units the
// worker queues itself.
var fuzzEvents = []string{"issues", "issue_comment", "installation", "installation_repositories", "push", handlers.EventInstallRepository}

type fuzzLookup struct{}

func (fuzzLookup) CodeOfConductURL(context.Context) (string, error) {
	return "https://example.com/CODE_OF_CONDUCT.md", nil
}
func (fuzzLookup) Permission(context.Context, string) (string, error) { return "admin", nil }

// memStore is the bot's memory and audit trail in a map: the fuzzer runs thousands of bodies a
// second through it (the JetStream store's round trips would allow a few).
type memStore struct {
	mu    sync.Mutex
	mem   map[string][]byte
	revs  map[string]uint64
	audit []json.RawMessage
}

func (s *memStore) LoadMemory(_ context.Context, key string, v any) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revs[key] == 0 {
		return 0, nil
	}
	return s.revs[key], json.Unmarshal(s.mem[key], v)
}

func (s *memStore) StoreMemory(_ context.Context, key string, v any, rev uint64) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revs[key] != rev {
		return queue.ErrConflict
	}
	s.mem[key], s.revs[key] = data, rev+1
	return nil
}

func (s *memStore) Audit(_ context.Context, _ int64, _ int, record any) error {
	data, err := json.Marshal(record)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.audit = append(s.audit[max(0, len(s.audit)-50):], data)
	return nil
}

func (s *memStore) AuditTrail(context.Context, int64, int, int) ([]json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.audit), nil
}

type fuzzScheduler struct{}

func (fuzzScheduler) Schedule(context.Context, handlers.UntriagedCheck) error { return nil }

type fuzzInstaller struct{}

func (fuzzInstaller) Installed(context.Context, int64, string, string) ([]string, error) {
	return nil, nil
}
func (fuzzInstaller) Pushed(context.Context, int64, string, string, []string) ([]string, error) {
	return nil, nil
}

// FuzzWorker sends arbitrary bodies, as any of the stored events, through Worker.Handle with the
// real rules, every route, a recording executor and a store in memory: whatever the body, the
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
	ctx := context.Background()
	var routes []rules.Route
	for _, on := range []string{rules.RouteIssueOpened, rules.RouteLabeled, rules.RoutePriorityChanged, rules.RouteConduct, rules.RouteNotifyCommand} {
		routes = append(routes, rules.Route{On: on, To: []string{"ops", "team"}})
	}
	routes = append(routes, rules.Route{On: rules.RouteUntriaged, After: "1h", To: []string{"ops"}})
	w, err := handlers.NewWorker(handlers.WorkerConfig{
		Executor:      &fakeExecutor{},
		Config:        handlers.StaticConfig(routed(routes...)),
		Store:         &memStore{mem: map[string][]byte{}, revs: map[string]uint64{}},
		Logger:        zap.NewNop(),
		BotLogin:      "triagebot[bot]",
		Lookup:        func(rules.Target) rules.Lookup { return fuzzLookup{} },
		Installer:     fuzzInstaller{},
		ConfigWatcher: fuzzInstaller{},
		Notifier:      &fakeNotifier{channels: channels()},
		Untriaged:     fuzzScheduler{},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, event uint8, number int, body []byte) {
		m := queue.Message{Event: fuzzEvents[int(event)%len(fuzzEvents)], DeliveryID: "fuzz", InstallationID: 1, RepoID: 1, Number: number, Body: body, Attempt: 1}
		_ = w.Handle(ctx, m) // an error is an answer; a panic fails the target
	})
}
