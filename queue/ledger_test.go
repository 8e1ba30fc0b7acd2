package queue_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// countingHandler counts the deliveries it handled, by id.
type countingHandler struct {
	mu  sync.Mutex
	n   map[string]int
	err error
}

func (h *countingHandler) handle(_ context.Context, m queue.Message) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == nil {
		h.n = map[string]int{}
	}
	h.n[m.DeliveryID]++
	return h.err
}

func (h *countingHandler) counts() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for k, v := range h.n {
		out[k] = v
	}
	return out
}

// A work-queue stream deletes what was acknowledged, and nats-server rebuilds its duplicate
// table from what is stored: the ledger is what remembers a handled delivery across a restart.
// The receiver does not read it (a round trip before every answer): the copy is stored, and
// the workers acknowledge it without handling it.
func TestDeliveryIDIsRememberedAcrossAServerRestart(t *testing.T) {
	dir := t.TempDir()
	srv := queuetest.Start(t, dir)
	ctx := ctxT(t)
	q, err := queue.Setup(ctx, srv.JS, queue.Config{Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	d := queue.Delivery{ID: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Event: "issues", RepoID: 5, Number: 1, Body: []byte(`{}`)}
	if _, err := q.Publish(ctx, d); err != nil {
		t.Fatal(err)
	}
	h := &countingHandler{}
	col := newCollector()
	c, err := q.Consume(ctx, h.handle, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1)
	stopConsumer(t, c)
	srv.Close()

	srv = queuetest.Start(t, dir)
	if q, err = queue.Setup(ctx, srv.JS, queue.Config{Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	if res, err := q.Publish(ctx, d); err != nil || res.Duplicate {
		t.Fatalf("publish after the restart %+v, %v; want stored (the stream forgot the id)", res, err)
	}
	c, err = q.Consume(ctx, h.handle, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1)
	stopConsumer(t, c)
	if diff := cmp.Diff(map[string]int{d.ID: 1}, h.counts()); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	if got := col.outcomes()[1].Result; got != "duplicate" {
		t.Errorf("the copy after the restart: %q, want duplicate", got)
	}
	assertEventsEmpty(t, q) // the duplicate's ack is sent, not awaited
	if state, err := q.DeliveryState(ctx, d.ID); err != nil || state != queue.DeliveryHandled {
		t.Fatalf("ledger state %q, %v; want %q", state, err, queue.DeliveryHandled)
	}
}

// A delivery the stream stored twice (here: a copy under another message id, as a redelivery
// after the stream's duplicate window is) is handled once; the copy is acknowledged as a
// duplicate.
func TestCopyOfAHandledDeliveryIsNotHandledAgain(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := ctxT(t)
	h := &countingHandler{}
	col := newCollector()
	c, err := q.Consume(ctx, h.handle, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	defer stopConsumer(t, c)
	if _, err := q.Publish(ctx, queue.Delivery{ID: "twice", Event: "issues", RepoID: 1, Number: 1, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1)
	copyMsg := &nats.Msg{Subject: queue.Subject(0, 0, 1, 1, "issues"), Data: []byte(`{}`),
		Header: nats.Header{queue.HeaderEvent: {"issues"}, queue.HeaderDelivery: {"twice"}}}
	if _, err := q.JetStream().PublishMsg(ctx, copyMsg, jetstream.WithMsgID("twice-copy")); err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1)
	if diff := cmp.Diff(map[string]int{"twice": 1}, h.counts()); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	var results []string
	for _, o := range col.outcomes() {
		results = append(results, o.Result)
	}
	if diff := cmp.Diff([]string{"acked", "duplicate"}, results); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

// A delivery whose handling failed is not marked handled: its retry is handled.
func TestFailedDeliveryIsNotRecordedAsHandled(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := ctxT(t)
	h := &countingHandler{err: queue.Permanent(errors.New("bug"))}
	col := newCollector()
	c, err := q.Consume(ctx, h.handle, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Publish(ctx, queue.Delivery{ID: "fails", Event: "issues", RepoID: 1, Number: 1, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1)
	stopConsumer(t, c)
	if state, err := q.DeliveryState(ctx, "fails"); err != nil || state != "" {
		t.Fatalf("ledger state %q, %v; want none", state, err)
	}
}

func TestLedgerKeepsIDsForTheDedupWindow(t *testing.T) {
	tests := []struct {
		give queue.Config
		want time.Duration
	}{
		{queue.Config{}, 72 * time.Hour},
		{queue.Config{DedupWindow: 5 * time.Hour}, 5 * time.Hour},
	}
	for _, tt := range tests {
		q, _ := queuetest.Queue(t, tt.give)
		ctx := ctxT(t)
		kv, err := q.JetStream().KeyValue(ctx, queue.DeliveryBucket)
		if err != nil {
			t.Fatal(err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.TTL() != tt.want {
			t.Errorf("window %s: bucket TTL %s, want %s", tt.give.DedupWindow, st.TTL(), tt.want)
		}
	}
}

// Any X-GitHub-Delivery value is accepted and remembered, even one that is no valid key: by the
// stream as a duplicate, and by the ledger once handled.
func TestOddDeliveryIDsAreRemembered(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := ctxT(t)
	for _, id := range []string{"a b", "*", "x.>", ".lead", "ünï", "a..b"} {
		d := queue.Delivery{ID: id, Event: "issues", RepoID: 1, Number: 1, Body: []byte(`{}`)}
		if res, err := q.Publish(ctx, d); err != nil || res.Duplicate {
			t.Fatalf("%q: first publish %+v, %v", id, res, err)
		}
		if res, err := q.Publish(ctx, d); err != nil || !res.Duplicate {
			t.Fatalf("%q: second publish %+v, %v; want a duplicate", id, res, err)
		}
		if err := q.RecordHandled(ctx, id); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if state, err := q.DeliveryState(ctx, id); err != nil || state != queue.DeliveryHandled {
			t.Fatalf("%q: ledger state %q, %v; want %q", id, state, err, queue.DeliveryHandled)
		}
	}
}
