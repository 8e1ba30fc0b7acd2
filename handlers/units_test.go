package handlers_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

type recordingInstaller struct {
	mu    sync.Mutex
	repos []string
	ch    chan struct{}
}

func (r *recordingInstaller) Installed(_ context.Context, _ int64, owner, repo string) ([]string, error) {
	r.mu.Lock()
	r.repos = append(r.repos, owner+"/"+repo)
	r.mu.Unlock()
	r.ch <- struct{}{}
	return nil, nil
}

// An installation's repositories are prepared as one queued unit each, not in a row within
// the installation's event: the event only queues them (a retry of it queues none twice), and
// each repository is prepared once, as its own event.
func TestInstallationIsSplitIntoOneUnitPerRepository(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 4})
	ctx := context.Background()
	var ev map[string]any
	if err := json.Unmarshal(payload(t, "installation/created.json"), &ev); err != nil {
		t.Fatal(err)
	}
	repos := ev["repositories"].([]any)
	for i, name := range []string{"Codertocat/two", "Codertocat/three"} {
		repos = append(repos, map[string]any{"id": 900 + i, "name": name[len("Codertocat/"):], "full_name": name})
	}
	ev["repositories"] = repos
	body, _ := json.Marshal(ev)
	inst := &recordingInstaller{ch: make(chan struct{}, 10)}
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: &fakeExecutor{}, Config: handlers.StaticConfig(rules.DefaultConfig()),
		Store: q, Logger: zap.NewNop(), Installer: inst, Units: q})
	if err != nil {
		t.Fatal(err)
	}
	m := queue.Message{Event: "installation", DeliveryID: "inst-1", InstallationID: 957387, Body: body, Attempt: 1}
	for range 2 { // the event, and a retry of it
		if err := w.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if len(inst.repos) != 0 {
		t.Fatalf("the installation's event prepared %v itself", inst.repos)
	}
	handleUnits(t, q, w, 3, inst.ch)
	slices.Sort(inst.repos)
	if diff := cmp.Diff([]string{"Codertocat/Hello-World", "Codertocat/three", "Codertocat/two"}, inst.repos); diff != "" {
		t.Fatalf("prepared (-want +got):\n%s", diff)
	}
}

// A unit that is not one (a hand-made event of that name) is dead-lettered with the reason.
func TestInstallUnitWithABadBodyIsPermanent(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	w := newWorker(t, q, &fakeExecutor{}, "")
	for _, body := range []string{`[]`, `{"installation_id":1,"full_name":"no-slash"}`} {
		err := w.Handle(context.Background(), queue.Message{Event: handlers.EventInstallRepository, DeliveryID: "u", RepoID: 5, Body: []byte(body)})
		if !queue.IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", body, err)
		}
	}
}

// handleUnits checks that n units are queued, and handles them until done has said so n times.
func handleUnits(t *testing.T, q *queue.Queue, w *handlers.Worker, n int, done <-chan struct{}) {
	t.Helper()
	if got := queuetest.Msgs(t, q.JetStream(), queue.EventStream); got != uint64(n) {
		t.Fatalf("%d units queued, want %d", got, n)
	}
	ctx := context.Background()
	c, err := q.Consume(ctx, w.Handle, queue.ConsumeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	for i := range n {
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of %d units handled", i, n)
		}
	}
}
