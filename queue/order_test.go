package queue_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// process is another worker process on the same store: its own connection and queue.
func process(t *testing.T, s *queuetest.Server, cfg queue.Config) *queue.Queue {
	t.Helper()
	nc, err := s.Embedded.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := queue.JetStream(nc)
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Setup(context.Background(), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// issueLog records the events handled per issue and fails on two at once of one issue.
type issueLog struct {
	t       *testing.T
	mu      sync.Mutex
	running map[int]bool
	got     map[int][]string
}

func newIssueLog(t *testing.T) *issueLog {
	return &issueLog{t: t, running: map[int]bool{}, got: map[int][]string{}}
}

func (l *issueLog) handle(ctx context.Context, m queue.Message) error {
	l.mu.Lock()
	if l.running[m.Number] {
		l.t.Errorf("issue %d: %s handled while another event of the issue was", m.Number, m.DeliveryID)
	}
	l.running[m.Number] = true
	l.mu.Unlock()
	time.Sleep(time.Millisecond) // work that takes a while, so that overlaps would show
	l.mu.Lock()
	l.running[m.Number] = false
	l.got[m.Number] = append(l.got[m.Number], m.DeliveryID)
	l.mu.Unlock()
	return nil
}

func publishIssues(t *testing.T, q *queue.Queue, prefix string, issues, each int) {
	t.Helper()
	for i := 0; i < each; i++ {
		for n := 1; n <= issues; n++ {
			d := queue.Delivery{ID: fmt.Sprintf("%s%d-%03d", prefix, n, i), Event: "issue_comment", InstallationID: 3, RepoID: 77, Number: n, Body: []byte(`{}`)}
			if _, err := q.Publish(context.Background(), d); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (l *issueLog) check(t *testing.T, issues int, prefixes []string, each int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for n := 1; n <= issues; n++ {
		var want []string
		for _, p := range prefixes {
			for i := 0; i < each; i++ {
				want = append(want, fmt.Sprintf("%s%d-%03d", p, n, i))
			}
		}
		if diff := cmp.Diff(want, l.got[n]); diff != "" {
			t.Errorf("issue %d order (-want +got):\n%s", n, diff)
		}
	}
}

// Three processes take events of the same few issues from one partition, with a transient
// failure in the middle of one issue: an issue's events are never handled at once by two
// processes, and always in the order they were stored. The same holds for one process that is
// the store's only consumer (Takeover), which looks up an issue's first event only after it
// gave one back.
func TestOrderPerIssueAcrossProcesses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		processes int
		takeover  bool
	}{{"three processes", 3, false}, {"sole consumer", 1, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := queue.Config{Partitions: 1}
			q, s := queuetest.Queue(t, cfg)
			const issues, each = 4, 30
			publishIssues(t, q, "", issues, each)
			log := newIssueLog(t)
			col := newCollector()
			var failed atomic.Bool
			h := func(ctx context.Context, m queue.Message) error {
				if m.DeliveryID == "2-010" && failed.CompareAndSwap(false, true) {
					return fmt.Errorf("GitHub answered 502")
				}
				return log.handle(ctx, m)
			}
			var consumers []*queue.Consumer
			for range tc.processes {
				c, err := process(t, s, cfg).Consume(ctxT(t), h, queue.ConsumeOptions{Observe: col.observe, Takeover: tc.takeover,
					Backoff: func(int) time.Duration { return 50 * time.Millisecond }})
				if err != nil {
					t.Fatal(err)
				}
				consumers = append(consumers, c)
			}
			col.wait(t, issues*each+1)
			for _, c := range consumers {
				stopConsumer(t, c)
			}
			log.check(t, issues, []string{""}, each)
			assertEventsEmpty(t, q)
		})
	}
}

// One partition, and yet as many issues are handled at once as MaxInFlight allows: every
// handler waits until 40 issues are in flight together.
func TestConcurrencyDoesNotDependOnPartitions(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	const issues = 40
	publishIssues(t, q, "", issues, 1)
	var mu sync.Mutex
	inFlight := 0
	all := make(chan struct{})
	col := newCollector()
	c, err := q.Consume(ctxT(t), func(ctx context.Context, m queue.Message) error {
		mu.Lock()
		inFlight++
		if inFlight == issues {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, queue.ConsumeOptions{Observe: col.observe, MaxInFlight: 64})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, issues)
	stopConsumer(t, c)
	for _, o := range col.outcomes() {
		if o.Result != "acked" {
			t.Fatalf("%s: %s (%v)", o.Message.DeliveryID, o.Result, o.Err)
		}
	}
}

// Changing the partition count on a store that holds events strands none of them, and an
// issue's events stored under the old count are handled before those stored under the new.
func TestChangingPartitionsStrandsNothing(t *testing.T) {
	q16, s := queuetest.Queue(t, queue.Config{Partitions: 16})
	const issues, each = 20, 3
	publishIssues(t, q16, "old", issues, each)
	q8 := process(t, s, queue.Config{Partitions: 8})
	publishIssues(t, q8, "new", issues, each)
	log := newIssueLog(t)
	col := newCollector()
	c, err := q8.Consume(ctxT(t), log.handle, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 2*issues*each)
	stopConsumer(t, c)
	log.check(t, issues, []string{"old", "new"}, each)
	assertEventsEmpty(t, q8)
}

// A process killed with events in flight: its successor on the same store takes them over at
// once instead of waiting out AckWait (an hour here, so a wait would fail the test).
func TestTakeoverRedeliversAKilledPredecessorsEventsAtOnce(t *testing.T) {
	cfg := queue.Config{Partitions: 2, AckWait: time.Hour}
	q, s := queuetest.Queue(t, cfg)
	const issues = 6
	publishIssues(t, q, "", issues, 2)

	nc, err := s.Embedded.Connect()
	if err != nil {
		t.Fatal(err)
	}
	js, err := queue.JetStream(nc)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := queue.Setup(ctxT(t), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 2*issues)
	block := make(chan struct{})
	first, err := dead.Consume(ctxT(t), func(ctx context.Context, m queue.Message) error {
		started <- struct{}{}
		select {
		case <-block:
		case <-ctx.Done():
		}
		return ctx.Err()
	}, queue.ConsumeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range issues {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatal("the first process did not take the events")
		}
	}
	nc.Close() // killed: nothing it held is acknowledged or handed back

	log := newIssueLog(t)
	col := newCollector()
	c, err := q.Consume(ctxT(t), log.handle, queue.ConsumeOptions{Observe: col.observe, Takeover: true})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 2*issues)
	stopConsumer(t, c)
	log.check(t, issues, []string{""}, 2)
	close(block)
	_ = first.Stop(ctxT(t))
}

// An installation waiting out a rate limit holds up only its own events: another
// installation's events in the same partition are handled meanwhile, and the limited
// installation's other events wait in the stream without calling GitHub.
func TestRateLimitedInstallationDelaysOnlyItself(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := ctxT(t)
	for i, d := range []queue.Delivery{
		{ID: "a-1", InstallationID: 1, RepoID: 10, Number: 1},
		{ID: "a-2", InstallationID: 1, RepoID: 10, Number: 2},
		{ID: "b-1", InstallationID: 2, RepoID: 20, Number: 1},
		{ID: "b-2", InstallationID: 2, RepoID: 20, Number: 2},
		{ID: "b-3", InstallationID: 2, RepoID: 20, Number: 1},
	} {
		d.Event, d.Body = "issues", []byte(`{}`)
		if _, err := q.Publish(ctx, d); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
	var mu sync.Mutex
	var calls []string
	col := newCollector()
	c, err := q.Consume(ctx, func(ctx context.Context, m queue.Message) error {
		mu.Lock()
		calls = append(calls, m.DeliveryID)
		mu.Unlock()
		if m.InstallationID == 1 {
			return rateLimited(time.Hour)
		}
		return nil
	}, queue.ConsumeOptions{Observe: col.observe, MaxInFlight: 1, Logger: zaptest.NewLogger(t, zaptest.Level(zap.DebugLevel))})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 4) // a-1 limited, b-1, b-2, b-3 acked
	stopConsumer(t, c)
	results := map[string]string{}
	for _, o := range col.outcomes() {
		results[o.Message.DeliveryID] = o.Result
	}
	if diff := cmp.Diff(map[string]string{"a-1": "rate_limited", "b-1": "acked", "b-2": "acked", "b-3": "acked"}, results); diff != "" {
		t.Fatalf("outcomes (-want +got):\n%s", diff)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range calls {
		if id == "a-2" {
			t.Fatalf("a-2 was handled while its installation waited out a rate limit: %v", calls)
		}
	}
}
