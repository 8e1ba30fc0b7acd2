package queue_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, queuetest.LeakOptions()...)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collector records handled messages and lets a test wait for a count.
type collector struct {
	mu   sync.Mutex
	msgs []queue.Message
	outs []queue.Outcome
	ch   chan struct{}
}

func newCollector() *collector { return &collector{ch: make(chan struct{}, 1<<16)} }

func (c *collector) observe(o queue.Outcome) {
	c.mu.Lock()
	c.outs = append(c.outs, o)
	c.mu.Unlock()
	c.ch <- struct{}{}
}

func (c *collector) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case <-c.ch:
		case <-deadline:
			t.Fatalf("waited for %d outcomes, got %d", n, i)
		}
	}
}

func (c *collector) outcomes() []queue.Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]queue.Outcome(nil), c.outs...)
}

func stopConsumer(t *testing.T, c *queue.Consumer) {
	t.Helper()
	if err := c.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

func TestPublishDeduplicatesByDeliveryID(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{})
	ctx := ctxT(t)
	d := queue.Delivery{ID: "d-1", Event: "issues", InstallationID: 7, RepoID: 42, Number: 3, Body: []byte(`{}`)}
	first, err := q.Publish(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	second, err := q.Publish(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !second.Duplicate {
		t.Fatalf("first %+v, second %+v: want the second to be a duplicate of the first", first, second)
	}
	s, err := q.JetStream().Stream(ctx, queue.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("stream holds %d messages, want 1", info.State.Msgs)
	}
	if info.Config.Duplicates < time.Hour {
		t.Fatalf("dedup window %s, want at least 1h", info.Config.Duplicates)
	}
}

func TestConfigRejectsBadValues(t *testing.T) {
	s := queuetest.Start(t, "")
	tests := []struct {
		give queue.Config
		want string
	}{
		{queue.Config{Partitions: -1}, "partitions: -1 is not between 1 and 1024"},
		{queue.Config{DedupWindow: time.Minute}, "dedup window: 1m0s is shorter than GitHub's redelivery needs (at least 1h)"},
		{queue.Config{Replicas: 9}, "replicas: 9 is not between 1 and 5"},
	}
	for _, tt := range tests {
		_, err := queue.Setup(ctxT(t), s.JS, tt.give)
		if err == nil || err.Error() != "queue config: "+tt.want {
			t.Errorf("Setup(%+v) = %v, want %q", tt.give, err, tt.want)
		}
	}
}

func TestSetupIsIdempotent(t *testing.T) {
	q, s := queuetest.Queue(t, queue.Config{Partitions: 4})
	if _, err := queue.Setup(ctxT(t), s.JS, q.Config()); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
}

func TestPartitionIsStableAndSpreads(t *testing.T) {
	seen := map[int]bool{}
	for n := 1; n <= 200; n++ {
		p := queue.Partition(123456789, n, 16)
		if p != queue.Partition(123456789, n, 16) {
			t.Fatal("partition is not stable")
		}
		if p < 0 || p >= 16 {
			t.Fatalf("partition %d out of range", p)
		}
		seen[p] = true
	}
	if len(seen) != 16 {
		t.Fatalf("200 issues used %d of 16 partitions", len(seen))
	}
	// Events of no repository are spread by installation (they all went to one partition).
	clear(seen)
	for inst := int64(1); inst <= 200; inst++ {
		p := queue.DeliveryPartition(inst, 0, 0, 16)
		if p != queue.DeliveryPartition(inst, 0, 0, 16) || p < 0 || p >= 16 {
			t.Fatalf("installation %d: partition %d", inst, p)
		}
		seen[p] = true
	}
	if len(seen) != 16 {
		t.Fatalf("200 installations' events used %d of 16 partitions", len(seen))
	}
	if queue.DeliveryPartition(9, 77, 5, 16) != queue.Partition(77, 5, 16) {
		t.Fatal("an issue's delivery is not in the issue's partition")
	}
	if got, want := queue.Subject(3, 1, 2, 4, "issues"), "triagebot.events.3.1.2.4.issues"; got != want {
		t.Fatalf("Subject = %q, want %q", got, want)
	}
}

func TestConsumeRoutesAndKeepsOrderPerIssue(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 4})
	ctx := ctxT(t)
	const perIssue = 20
	issues := []int{1, 2, 3, 4, 5, 6}
	for i := 0; i < perIssue; i++ {
		for _, n := range issues {
			body := fmt.Sprintf(`{"seq":%d}`, i)
			if _, err := q.Publish(ctx, queue.Delivery{ID: fmt.Sprintf("%d-%d", n, i), Event: "issue_comment", InstallationID: 9, RepoID: 77, Number: n, Body: []byte(body)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var mu sync.Mutex
	got := map[int][]string{}
	col := newCollector()
	c, err := q.Consume(ctx, func(ctx context.Context, m queue.Message) error {
		if want := queue.Partition(m.RepoID, m.Number, 4); m.Partition != want {
			return queue.Permanent(fmt.Errorf("issue %d in partition %d, want %d", m.Number, m.Partition, want))
		}
		mu.Lock()
		got[m.Number] = append(got[m.Number], string(m.Body))
		mu.Unlock()
		return nil
	}, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, perIssue*len(issues))
	stopConsumer(t, c)
	for _, n := range issues {
		var want []string
		for i := 0; i < perIssue; i++ {
			want = append(want, fmt.Sprintf(`{"seq":%d}`, i))
		}
		if diff := cmp.Diff(want, got[n]); diff != "" {
			t.Errorf("issue %d order (-want +got):\n%s", n, diff)
		}
	}
	for _, o := range col.outcomes() {
		if o.Result != "acked" {
			t.Errorf("delivery %s: %s (%v)", o.Message.DeliveryID, o.Result, o.Err)
		}
	}
}

func TestPermanentFailureIsDeadLetteredWithReason(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 2})
	ctx := ctxT(t)
	body := []byte(`{"action":"opened"}`)
	if _, err := q.Publish(ctx, queue.Delivery{ID: "dead-1", Event: "issues", InstallationID: 1, RepoID: 5, Number: 8, Body: body}); err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	c, err := q.Consume(ctx, func(ctx context.Context, m queue.Message) error {
		return queue.Permanent(errors.New("payload is not an issues event"))
	}, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1)
	stopConsumer(t, c)

	dls, err := q.DeadLetters(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	d := dls[0]
	if d.Reason != "payload is not an issues event" || d.Attempts != 1 || d.DeliveryID != "dead-1" || d.Event != "issues" ||
		!bytes.Equal(d.Body, body) || d.Subject != queue.Subject(queue.Partition(5, 8, 2), 1, 5, 8, "issues") ||
		d.Header.Get(queue.HeaderReceived) == "" {
		t.Fatalf("dead letter %+v", d)
	}
	assertEventsEmpty(t, q)
}

// assertEventsEmpty waits until the event stream is empty: acks and terms are not waited for
// by the consumer, so a settled event leaves the stream a moment later.
func assertEventsEmpty(t *testing.T, q *queue.Queue) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := queuetest.Msgs(t, q.JetStream(), queue.EventStream)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("event stream still holds %d messages", n)
		}
		time.Sleep(10 * time.Millisecond) // polling, with a deadline
	}
}

func TestTransientFailureRetriesThenDeadLetters(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1, MaxAttempts: 3})
	ctx := ctxT(t)
	if _, err := q.Publish(ctx, queue.Delivery{ID: "flaky", Event: "issues", RepoID: 1, Number: 1, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	var attempts []int
	var last []bool
	c, err := q.Consume(ctx, func(ctx context.Context, m queue.Message) error {
		attempts = append(attempts, m.Attempt)
		last = append(last, m.LastAttempt)
		return errors.New("GitHub answered 502")
	}, queue.ConsumeOptions{Observe: col.observe, Backoff: func(int) time.Duration { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 3)
	stopConsumer(t, c)
	if diff := cmp.Diff([]int{1, 2, 3}, attempts); diff != "" {
		t.Fatalf("attempts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{false, false, true}, last); diff != "" {
		t.Fatalf("last attempt flags (-want +got):\n%s", diff)
	}
	var results []string
	for _, o := range col.outcomes() {
		results = append(results, o.Result)
	}
	if diff := cmp.Diff([]string{"retry", "retry", "dead_lettered"}, results); diff != "" {
		t.Fatalf("outcomes (-want +got):\n%s", diff)
	}
	dls, err := q.DeadLetters(ctx, 0)
	if err != nil || len(dls) != 1 || dls[0].Attempts != 3 || dls[0].Reason != "GitHub answered 502" {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}
}

type rateLimited time.Duration

func (r rateLimited) Error() string             { return "rate limited" }
func (r rateLimited) RetryAfter() time.Duration { return time.Duration(r) }

func TestRateLimitIsRetriedNotDeadLettered(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1, MaxAttempts: 1})
	ctx := ctxT(t)
	if _, err := q.Publish(ctx, queue.Delivery{ID: "limited", Event: "issues", RepoID: 1, Number: 1, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	calls := 0
	c, err := q.Consume(ctx, func(ctx context.Context, m queue.Message) error {
		calls++
		if calls == 1 {
			return fmt.Errorf("add label: %w", rateLimited(time.Millisecond))
		}
		return nil
	}, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 2)
	stopConsumer(t, c)
	outs := col.outcomes()
	if outs[0].Result != "rate_limited" || outs[1].Result != "acked" {
		t.Fatalf("outcomes %s, %s; want rate_limited then acked", outs[0].Result, outs[1].Result)
	}
}

func TestRetryDeadLetterRequeuesIt(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := ctxT(t)
	if _, err := q.Publish(ctx, queue.Delivery{ID: "again", Event: "issues", RepoID: 1, Number: 2, Body: []byte(`{"n":1}`)}); err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	fail := true
	var handled []string
	c, err := q.Consume(ctx, func(ctx context.Context, m queue.Message) error {
		handled = append(handled, m.DeliveryID)
		if fail {
			fail = false
			return queue.Permanent(errors.New("bug"))
		}
		return nil
	}, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1)
	dls, err := q.DeadLetters(ctx, 0)
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters %v, %v", dls, err)
	}
	if err := q.RetryDeadLetter(ctx, dls[0].Seq); err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1)
	stopConsumer(t, c)
	if diff := cmp.Diff([]string{"again", "again"}, handled); diff != "" {
		t.Fatalf("handled (-want +got):\n%s", diff)
	}
	if dls, _ := q.DeadLetters(ctx, 0); len(dls) != 0 {
		t.Fatalf("dead letters left after retry: %+v", dls)
	}
	if err := q.DropDeadLetter(ctx, 999); err == nil {
		t.Fatal("dropping an unknown dead letter succeeded")
	}
}

func TestGitHubSizedPayloadFits(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	body := bytes.Repeat([]byte("a"), queue.MaxBody)
	if _, err := q.Publish(ctxT(t), queue.Delivery{ID: "big", Event: "issues", RepoID: 1, Number: 1, Body: body}); err != nil {
		t.Fatalf("publishing %d bytes: %v", len(body), err)
	}
}

func TestMemoryCompareAndSet(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := ctxT(t)
	type mem struct{ Authors []string }
	var m mem
	rev, err := q.LoadMemory(ctx, queue.RepoKey(5), &m)
	if err != nil || rev != 0 {
		t.Fatalf("empty load: rev %d, %v", rev, err)
	}
	if err := q.StoreMemory(ctx, queue.RepoKey(5), mem{Authors: []string{"a"}}, 0); err != nil {
		t.Fatal(err)
	}
	if err := q.StoreMemory(ctx, queue.RepoKey(5), mem{Authors: []string{"b"}}, 0); !errors.Is(err, queue.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	rev, err = q.LoadMemory(ctx, queue.RepoKey(5), &m)
	if err != nil || rev == 0 || m.Authors[0] != "a" {
		t.Fatalf("load: %+v rev %d %v", m, rev, err)
	}
	if err := q.StoreMemory(ctx, queue.RepoKey(5), mem{Authors: []string{"a", "c"}}, rev); err != nil {
		t.Fatal(err)
	}
	if err := q.StoreMemory(ctx, queue.RepoKey(5), mem{}, rev); !errors.Is(err, queue.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
}

func TestAuditTrail(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := ctxT(t)
	if err := q.Audit(ctx, 10, 1, map[string]int{"i": 0}); err != nil {
		t.Fatal(err)
	}
	// Several records of one event go at once, and keep their order.
	if err := q.AuditBatch(ctx, 10, 1, []any{map[string]int{"i": 1}, map[string]int{"i": 2}}); err != nil {
		t.Fatal(err)
	}
	if err := q.Audit(ctx, 10, 2, map[string]int{"other": 1}); err != nil {
		t.Fatal(err)
	}
	all, err := q.AuditTrail(ctx, 10, 1, 0)
	if err != nil || len(all) != 3 || string(all[0]) != `{"i":0}` {
		t.Fatalf("whole trail %s, %v", all, err)
	}
	recs, err := q.AuditTrail(ctx, 10, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, string(r))
	}
	if diff := cmp.Diff([]string{`{"i":1}`, `{"i":2}`}, got); diff != "" {
		t.Fatalf("trail (-want +got):\n%s", diff)
	}
	none, err := q.AuditTrail(ctx, 10, 99, 0)
	if err != nil || len(none) != 0 {
		t.Fatalf("empty trail: %v %v", none, err)
	}
}

func TestDataDirectoryIsLockedAgainstASecondServer(t *testing.T) {
	s := queuetest.Start(t, "")
	_, err := queue.StartEmbedded(queue.EmbeddedConfig{Dir: s.Dir})
	if !errors.Is(err, queue.ErrDataDirInUse) {
		t.Fatalf("second server on %s: %v, want ErrDataDirInUse", s.Dir, err)
	}
	s.Close()
	again, err := queue.StartEmbedded(queue.EmbeddedConfig{Dir: s.Dir})
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	again.Shutdown()
}

// The embedded server takes no network clients unless asked; asked, other processes (the load
// tool's `receive` and `work` processes) reach it at ClientURL, and a bad address is refused
// before anything starts.
func TestEmbeddedServerListensOnlyWhenAsked(t *testing.T) {
	s := queuetest.Start(t, "")
	if url := s.Embedded.ClientURL(); url != "" {
		t.Errorf("ClientURL %q without Listen, want none", url)
	}
	l := queuetest.StartWith(t, queue.EmbeddedConfig{Listen: "127.0.0.1:0"})
	url := l.Embedded.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		t.Fatalf("ClientURL %q, want nats://127.0.0.1:<the port taken>", url)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := queue.JetStream(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := queue.Setup(context.Background(), js, queue.Config{Partitions: 2}); err != nil {
		t.Fatalf("a queue over the network connection: %v", err)
	}
	_, err = queue.StartEmbedded(queue.EmbeddedConfig{Dir: t.TempDir(), Listen: "localhost"})
	if err == nil || !strings.Contains(err.Error(), `listen "localhost"`) {
		t.Fatalf("Listen without a port: %v, want it refused", err)
	}
}
