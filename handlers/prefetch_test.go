package handlers_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// conductLookup answers the code of conduct's link, and says when it was first asked.
type conductLookup struct {
	once  *sync.Once
	asked chan struct{}
}

func (l conductLookup) CodeOfConductURL(context.Context) (string, error) {
	l.once.Do(func() { close(l.asked) })
	return "https://github.example/o/r/blob/main/CODE_OF_CONDUCT.md", nil
}

func (conductLookup) Permission(context.Context, string) (string, error) { return "read", nil }

// configAfterConduct is a configuration whose fetch answers only once the code of conduct has
// been asked for (or fails after a deadline): the two are asked at once or not at all.
type configAfterConduct struct{ asked chan struct{} }

func (c configAfterConduct) Config(ctx context.Context, _ rules.Target) (rules.Config, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case <-c.asked:
		return rules.DefaultConfig(), nil
	case <-ctx.Done():
		return rules.Config{}, errors.New("the code of conduct was not looked up while the configuration was fetched")
	}
}

// A new author's first issue wants the configuration and the code of conduct (for the welcome),
// each one GitHub round trip or more on a new installation (hundreds of milliseconds each):
// they are asked at once, not one after the other. An author the issue shows is not new (the
// repository's owner here) costs no look-up. The look-up is told the repository is private
// (it then skips the community profile, which private repositories do not have).
func TestNewcomersConductIsLookedUpAlongsideTheConfiguration(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	body := strings.Replace(string(payload(t, "issues/opened.json")), `"author_association": "OWNER"`, `"author_association": "NONE"`, 1)
	body = strings.Replace(body, `"private": false`, `"private": true`, 1)
	newcomer := queue.Message{Event: "issues", DeliveryID: "newcomer", RepoID: 186853002, Number: 1, Attempt: 1, Body: []byte(body)}
	asked := make(chan struct{})
	lookup := conductLookup{once: &sync.Once{}, asked: asked}
	exec := &fakeExecutor{}
	var mu sync.Mutex
	var private []bool
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: exec, Config: configAfterConduct{asked}, Store: q, Logger: zap.NewNop(),
		Lookup: func(t rules.Target) rules.Lookup {
			mu.Lock()
			defer mu.Unlock()
			private = append(private, t.Private)
			return lookup
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(context.Background(), newcomer); err != nil {
		t.Fatal(err)
	}
	welcomed := false
	for _, calls := range exec.calls {
		for _, a := range calls {
			welcomed = welcomed || a.Rule == rules.RuleCodeOfConduct && strings.Contains(a.Body, "CODE_OF_CONDUCT.md")
		}
	}
	if !welcomed {
		t.Errorf("no welcome with the code of conduct's link among %+v", exec.calls)
	}
	mu.Lock()
	if len(private) == 0 || slices.Contains(private, false) {
		t.Errorf("the look-ups were told private %v, want true each time", private)
	}
	mu.Unlock()

	owners := conductLookup{once: &sync.Once{}, asked: make(chan struct{})}
	w, err = handlers.NewWorker(handlers.WorkerConfig{Executor: &fakeExecutor{}, Config: handlers.StaticConfig(rules.DefaultConfig()), Store: q,
		Logger: zap.NewNop(), Lookup: func(rules.Target) rules.Lookup { return owners }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(context.Background(), queue.Message{Event: "issues", DeliveryID: "owner", RepoID: 186853002, Number: 2, Attempt: 1,
		Body: payload(t, "issues/opened.json")}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-owners.asked:
		t.Error("the code of conduct was looked up for the repository owner's issue, whom no rule welcomes")
	default:
	}
}
