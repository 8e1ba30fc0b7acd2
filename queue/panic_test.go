package queue_test

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// A handler that panics is a bug, not a transient fault: the event is dead-lettered at once
// with the panic as its reason, the stack is logged with the delivery id, and the consumer goes
// on with every other event.
func TestPanicIsDeadLetteredAtOnceAndTheRestGoesOn(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 2})
	ctx := ctxT(t)
	for _, d := range []queue.Delivery{
		{ID: "boom", Event: "issues", RepoID: 1, Number: 1, Body: []byte(`{}`)},
		{ID: "after-boom", Event: "issues", RepoID: 1, Number: 1, Body: []byte(`{}`)},
		{ID: "other", Event: "issues", RepoID: 2, Number: 5, Body: []byte(`{}`)},
	} {
		if _, err := q.Publish(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	core, logs := observer.New(zap.ErrorLevel)
	col := newCollector()
	c, err := q.Consume(ctx, func(ctx context.Context, m queue.Message) error {
		if m.DeliveryID == "boom" {
			var p *struct{ X int }
			_ = p.X // a nil pointer, as the worker once hit
		}
		return nil
	}, queue.ConsumeOptions{Logger: zap.New(core), Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 3)
	stopConsumer(t, c)
	results := map[string]string{}
	for _, o := range col.outcomes() {
		results[o.Message.DeliveryID] = o.Result
	}
	if want := map[string]string{"boom": "dead_lettered", "after-boom": "acked", "other": "acked"}; !mapsEqual(results, want) {
		t.Fatalf("outcomes %v, want %v", results, want)
	}
	dls, err := q.DeadLetters(ctx, 0)
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}
	if d := dls[0]; d.DeliveryID != "boom" || d.Attempts != 1 || !strings.HasPrefix(d.Reason, "panic: runtime error: invalid memory address") {
		t.Fatalf("dead letter %+v", d)
	}
	var logged bool
	for _, e := range logs.FilterMessage("panic while handling an event").All() {
		ctx := e.ContextMap()
		if ctx["delivery_id"] == "boom" && strings.Contains(ctx["stack"].(string), "panic_test.go") {
			logged = true
		}
	}
	if !logged {
		t.Fatalf("no panic log with the delivery id and the stack: %v", logs.All())
	}
	assertEventsEmpty(t, q)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
