package queue_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// A GitHub payload is stored compressed (a fifth of its size) and every reader gets it whole:
// the worker, the dead-letter listing, and the worker again after a retry from there.
func TestStoredBodiesAreCompressedAndReadBackWhole(t *testing.T) {
	body, err := os.ReadFile("../testdata/webhooks/issues/opened.json")
	if err != nil {
		t.Fatal(err)
	}
	q, raw := publishOne(t, body)
	ctx := ctxT(t)
	if enc := raw.Header.Get(queue.HeaderEncoding); enc != "s2" || len(raw.Data) > len(body)/3 {
		t.Fatalf("stored %d bytes (encoding %q) of a %d-byte payload; want s2, under a third", len(raw.Data), enc, len(body))
	}

	var (
		mu     sync.Mutex
		bodies [][]byte
	)
	col := newCollector()
	c, err := q.Consume(ctx, func(_ context.Context, m queue.Message) error {
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, m.Body)
		if len(bodies) == 1 {
			return queue.Permanent(errors.New("first time"))
		}
		return nil
	}, queue.ConsumeOptions{Observe: col.observe})
	if err != nil {
		t.Fatal(err)
	}
	defer stopConsumer(t, c)
	col.wait(t, 1)
	dls, err := q.DeadLetters(ctx, 0)
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters %d, %v; want 1", len(dls), err)
	}
	if !bytes.Equal(dls[0].Body, body) {
		t.Errorf("dead letter body: %d bytes, want the %d-byte payload", len(dls[0].Body), len(body))
	}
	if err := q.RetryDeadLetter(ctx, dls[0].Seq); err != nil {
		t.Fatal(err)
	}
	col.wait(t, 1)
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 {
		t.Fatalf("handled %d times, want 2", len(bodies))
	}
	for i, b := range bodies {
		if !bytes.Equal(b, body) {
			t.Errorf("handling %d got %d bytes, want the %d-byte payload", i+1, len(b), len(body))
		}
	}
}

// A small body gains nothing and is stored as it is, without an encoding.
func TestSmallBodiesAreStoredAsTheyAre(t *testing.T) {
	body := []byte(`{"action":"opened"}`)
	_, raw := publishOne(t, body)
	if enc := raw.Header.Get(queue.HeaderEncoding); enc != "" || !bytes.Equal(raw.Data, body) {
		t.Fatalf("stored %q with encoding %q; want the body as it is", raw.Data, enc)
	}
}

// publishOne publishes body on a new queue and returns the queue and the message as stored.
func publishOne(t *testing.T, body []byte) (*queue.Queue, *jetstream.RawStreamMsg) {
	t.Helper()
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := ctxT(t)
	if _, err := q.Publish(ctx, queue.Delivery{ID: "one", Event: "issues", RepoID: 1, Number: 1, Body: body}); err != nil {
		t.Fatal(err)
	}
	s, err := q.JetStream().Stream(ctx, queue.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	return q, raw
}

// A stored body that cannot be expanded is dead-lettered with the reason, not handled.
func TestUndecodableBodyIsDeadLettered(t *testing.T) {
	tests := []struct {
		name     string
		encoding string
		data     []byte
		want     string
	}{
		{"corrupt", "s2", []byte("not s2 at all"), "s2 body"},
		{"a bomb", "s2", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, "expands beyond 25 MiB"},
		{"unknown", "zstd", []byte("x"), `unknown body encoding "zstd"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
			ctx := ctxT(t)
			msg := &nats.Msg{Subject: queue.Subject(0, 1, 1, 1, "issues"), Data: tt.data, Header: nats.Header{
				queue.HeaderEvent: {"issues"}, queue.HeaderDelivery: {tt.name}, queue.HeaderEncoding: {tt.encoding}}}
			if _, err := q.JetStream().PublishMsg(ctx, msg, jetstream.WithMsgID(tt.name)); err != nil {
				t.Fatal(err)
			}
			handled := 0
			col := newCollector()
			c, err := q.Consume(ctx, func(context.Context, queue.Message) error { handled++; return nil }, queue.ConsumeOptions{Observe: col.observe})
			if err != nil {
				t.Fatal(err)
			}
			col.wait(t, 1)
			stopConsumer(t, c)
			o := col.outcomes()[0]
			if diff := cmp.Diff("dead_lettered", o.Result); diff != "" || handled != 0 {
				t.Fatalf("outcome %q (handled %d times), want dead_lettered, unhandled", o.Result, handled)
			}
			if o.Err == nil || !strings.Contains(o.Err.Error(), tt.want) {
				t.Errorf("reason %v, want %q", o.Err, tt.want)
			}
			dls, err := q.DeadLetters(ctx, 0)
			if err != nil || len(dls) != 1 || !bytes.Equal(dls[0].Body, tt.data) {
				t.Errorf("dead letters %+v, %v; want the stored bytes as they are", dls, err)
			}
		})
	}
}
