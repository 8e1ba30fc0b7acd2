package handlers_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// installationRepos serves an installation's repositories two a page.
type installationRepos struct{ names []string }

func (r installationRepos) InstallationRepositories(_ context.Context, _ int64, page int) ([]*github.Repository, int, error) {
	var out []*github.Repository
	lo, hi := (page-1)*2, min(page*2, len(r.names))
	for i, full := range r.names[lo:hi] {
		repo := &github.Repository{ID: github.Int64(int64(500 + lo + i)), FullName: github.String(full)}
		repo.Name = github.String(full[len("Codertocat/"):])
		if repo.GetName() == "old" {
			repo.Archived = github.Bool(true)
		}
		out = append(out, repo)
	}
	next := page + 1
	if hi == len(r.names) {
		next = 0
	}
	return out, next, nil
}

// syncRecorder records the labels synced and the lifecycle walks asked for.
type syncRecorder struct {
	mu     sync.Mutex
	labels []string
	walks  []string
	done   chan struct{}
}

func (s *syncRecorder) Installed(_ context.Context, _ int64, owner, repo string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.labels = append(s.labels, owner+"/"+repo)
	return []string{"needs-triage"}, nil
}

func (s *syncRecorder) Pushed(context.Context, int64, string, string, []string) ([]string, error) {
	return nil, nil
}

func (s *syncRecorder) walk(_ context.Context, t rules.Target) (handlers.BackfillProgress, error) {
	s.mu.Lock()
	s.walks = append(s.walks, t.FullName())
	s.mu.Unlock()
	s.done <- struct{}{}
	return handlers.BackfillProgress{}, nil
}

func pushTo(t *testing.T, repo string, paths ...string) queue.Message {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload(t, "push/with-new-branch.json"), &m); err != nil {
		t.Fatal(err)
	}
	r := m["repository"].(map[string]any)
	r["name"], r["full_name"] = repo, "Codertocat/"+repo
	m["commits"].([]any)[0].(map[string]any)["modified"] = paths
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return queue.Message{Event: "push", DeliveryID: "push-" + repo, Body: body, Attempt: 1}
}

// A change of the organisation's defaults reaches every repository of the installation as GitHub
// lists them (not only those the bot saw events of), archived ones and .github left out: one
// queued unit each (a retried push queues none twice), each syncing the labels, with an audit
// record, and walking the issues for the lifecycle. A push to one repository's configuration
// queues its lifecycle walk only; a push of other files, nothing.
func TestConfigPushesQueueOneUnitPerRepository(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 4})
	ctx := context.Background()
	rec := &syncRecorder{done: make(chan struct{}, 20)}
	repos := installationRepos{names: []string{"Codertocat/.github", "Codertocat/api", "Codertocat/old", "Codertocat/web", "Codertocat/never-seen"}}
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: &fakeExecutor{}, Config: handlers.StaticConfig(rules.DefaultConfig()),
		Store: q, Logger: zap.NewNop(), Installer: rec, ConfigWatcher: rec, Units: q, Repositories: repos, LifecycleWalk: rec.walk})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []queue.Message{
		pushTo(t, ".github", ".github/triagebot.yml"), pushTo(t, ".github", ".github/triagebot.yml"), // and a retry
		pushTo(t, "api", ".github/triagebot.yml"),
		pushTo(t, "web", "README.md"),
	} {
		if err := w.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	handleUnits(t, q, w, 4, rec.done) // three repositories, and api's walk
	slices.Sort(rec.labels)
	slices.Sort(rec.walks)
	if diff := cmp.Diff([]string{"Codertocat/api", "Codertocat/never-seen", "Codertocat/web"}, rec.labels); diff != "" {
		t.Errorf("labels synced (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Codertocat/api", "Codertocat/api", "Codertocat/never-seen", "Codertocat/web"}, rec.walks); diff != "" {
		t.Errorf("lifecycle walks (-want +got):\n%s", diff)
	}
	trail, err := q.AuditTrail(ctx, 504, 0, 10) // never-seen's id
	if err != nil || len(trail) != 1 {
		t.Fatalf("audit trail of never-seen: %d records, %v", len(trail), err)
	}
	var got handlers.AuditRecord
	if err := json.Unmarshal(trail[0], &got); err != nil {
		t.Fatal(err)
	}
	if got.Result.Action.Rule != handlers.RuleConfiguration || !slices.Equal(got.Result.Action.Labels, []string{"needs-triage"}) {
		t.Errorf("audit record %+v", got.Result.Action)
	}
}

// A sync unit that is not one (a hand-made event of that name) is dead-lettered with the reason.
func TestSyncUnitWithABadBodyIsPermanent(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	w := newWorker(t, q, &fakeExecutor{}, "")
	for _, body := range []string{`[]`, `{"installation_id":1,"full_name":"no-slash","labels":true}`} {
		err := w.Handle(context.Background(), queue.Message{Event: handlers.EventSyncRepository, DeliveryID: "u", RepoID: 5, Body: []byte(body)})
		if !queue.IsPermanent(err) {
			t.Errorf("%s: err = %v, want permanent", body, err)
		}
	}
}

// On installation each repository is prepared, backfilled, then walked for the lifecycle (which
// finds nothing left to do when the backfill scheduled the timers itself).
func TestInstallationRunsTheLifecycleWalkAfterTheBackfill(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	rec := &syncRecorder{done: make(chan struct{}, 5)}
	var order []string
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: &fakeExecutor{}, Config: handlers.StaticConfig(rules.DefaultConfig()),
		Store: q, Installer: rec,
		Backfill: func(_ context.Context, t rules.Target, _ time.Time) (handlers.BackfillProgress, error) {
			order = append(order, "backfill "+t.FullName())
			return handlers.BackfillProgress{}, nil
		},
		LifecycleWalk: func(ctx context.Context, t rules.Target) (handlers.BackfillProgress, error) {
			order = append(order, "lifecycle walk "+t.FullName())
			return rec.walk(ctx, t)
		}})
	if err != nil {
		t.Fatal(err)
	}
	m := queue.Message{Event: "installation", DeliveryID: "inst", InstallationID: 957387, Body: payload(t, "installation/created.json"), Attempt: 1}
	if err := w.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	want := []string{"backfill Codertocat/Hello-World", "lifecycle walk Codertocat/Hello-World"}
	if diff := cmp.Diff(want, order); diff != "" || !cmp.Equal(rec.labels, []string{"Codertocat/Hello-World"}) {
		t.Errorf("labels %v; order (-want +got):\n%s", rec.labels, diff)
	}
}

// A lifecycle turned on where no push tells of it (the server defaults) still reaches the
// repository's old issues: the first event of the repository with the lifecycle on queues its
// walk, once per process (and once per dedup window across processes).
func TestFirstEventWithTheLifecycleOnQueuesTheWalk(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 2})
	rec := &syncRecorder{done: make(chan struct{}, 5)}
	cfg := rules.DefaultConfig()
	cfg.Lifecycle.Enabled = true
	newW := func() *handlers.Worker {
		w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: &fakeExecutor{}, Config: handlers.StaticConfig(cfg), Store: q,
			Units: q, LifecycleWalk: rec.walk})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	w := newW()
	ctx := context.Background()
	for i, w := range []*handlers.Worker{w, w, newW()} { // a second event; another process
		m := message(t, "issues", "issues/opened.json", "opened-"+strconv.Itoa(i))
		if err := w.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	handleUnits(t, q, w, 1, rec.done)
	if diff := cmp.Diff([]string{"Codertocat/Hello-World"}, rec.walks); diff != "" {
		t.Errorf("walks (-want +got):\n%s", diff)
	}
}
