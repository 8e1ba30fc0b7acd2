package queue_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// An event whose handling takes several times AckWait (a slow GitHub) is renewed by the live
// process that holds it: a second process, idle beside it, is never given it, and JetStream
// delivers it once. A short AckWait thus only hastens the takeover of a dead worker's events.
func TestSlowEventIsKeptAliveBeyondAckWait(t *testing.T) {
	cfg := queue.Config{Partitions: 1, AckWait: time.Second}
	q, s := queuetest.Queue(t, cfg)
	publishIssues(t, q, "", 3, 1)

	var mu sync.Mutex
	calls := map[string]int{}
	slow := func(ctx context.Context, m queue.Message) error {
		mu.Lock()
		calls[m.DeliveryID]++
		mu.Unlock()
		select {
		case <-time.After(3500 * time.Millisecond): // the handler's work, 3.5 AckWaits long
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	col := newCollector()
	first, err := q.Consume(ctxT(t), slow, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	// The second process starts once the first holds the events.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(calls)
		mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first process took %d of 3 events", n)
		}
		time.Sleep(10 * time.Millisecond) // polling, with a deadline
	}
	second, err := process(t, s, cfg).Consume(ctxT(t), slow, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 3)
	stopConsumer(t, first)
	stopConsumer(t, second)
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(map[string]int{"1-000": 1, "2-000": 1, "3-000": 1}, calls); diff != "" {
		t.Fatalf("handler calls (-want +got):\n%s", diff)
	}
	for _, o := range col.outcomes() {
		if o.Result != "acked" || o.Message.Attempt != 1 {
			t.Errorf("%s: %s on attempt %d, want acked on the first", o.Message.DeliveryID, o.Result, o.Message.Attempt)
		}
	}
	assertEventsEmpty(t, q)
}

// An event held for long without being settled (a handler waiting on something that never
// answers, the event kept alive meanwhile) is reported with its delivery and what it is doing,
// once per SlowAfter: seen only as a stalled test until then.
func TestEventHeldForLongIsReported(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	if _, err := q.Consume(ctxT(t), nil, queue.ConsumeOptions{SlowAfter: -time.Second}); err == nil || err.Error() != "slow after: -1s is negative" {
		t.Errorf("a negative SlowAfter: %v", err)
	}
	publishIssues(t, q, "", 1, 1)
	release := make(chan struct{})
	stuck := func(ctx context.Context, m queue.Message) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	core, logs := observer.New(zapcore.WarnLevel)
	col := newCollector()
	c, err := q.Consume(ctxT(t), stuck, queue.ConsumeOptions{Logger: zap.New(core), Observe: col.observe, SlowAfter: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const msg = "event held for long without being settled"
	deadline := time.Now().Add(10 * time.Second)
	for logs.FilterMessage(msg).Len() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("a stuck event was reported %d times in 10 s, want it reported every 100 ms", logs.FilterMessage(msg).Len())
		}
		time.Sleep(10 * time.Millisecond) // polling, with a deadline
	}
	close(release)
	col.wait(t, 1)
	stopConsumer(t, c)
	f := logs.FilterMessage(msg).All()[0].ContextMap()
	if f["delivery_id"] != "1-000" || f["handling"] != true || f["event"] != "issue_comment" {
		t.Errorf("reported as %v, want delivery 1-000, an issue_comment being handled", f)
	}
}
