package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triagebot/triagebot/queue"
)

// goneStore is JetStream on a nats-server of its own on a loopback port; gone stops that server
// while the client keeps reconnecting, so that its requests wait in its buffer, unanswered,
// as a request lost while a node went down or a cluster elected a leader does.
func goneStore(t *testing.T) (js jetstream.JetStream, gone func()) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a nats-server on a port")
	}
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if js, err = queue.JetStream(nc); err != nil {
		t.Fatal(err)
	}
	return js, func() {
		srv.Shutdown()
		// Once the client knows, its requests wait in its buffer instead of failing on a
		// dropped connection.
		deadline := time.Now().Add(10 * time.Second)
		for !nc.IsReconnecting() {
			if time.Now().After(deadline) {
				t.Fatalf("the client did not notice the server go: %v", nc.Status())
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// giveUpInTime runs ops at once with the store gone: each must fail well before the caller's
// own deadline (after queue.StoreTimeout).
func giveUpInTime(t *testing.T, ops map[string]func(ctx context.Context) error) {
	t.Helper()
	caller, cancel := context.WithTimeout(context.Background(), 4*queue.StoreTimeout)
	defer cancel()
	errs := make(map[string]chan error)
	for name, op := range ops {
		ch := make(chan error, 1)
		errs[name] = ch
		go func() { ch <- op(caller) }()
	}
	for name, ch := range errs {
		err := <-ch
		if caller.Err() != nil {
			t.Fatalf("%s returned only at the caller's deadline (%v): a lost request holds its caller", name, err)
		}
		if err == nil {
			t.Errorf("%s succeeded with the store gone", name)
		}
	}
}

// A request the store never answers must not hold its caller until the caller's own, longer,
// deadline: seen as a configuration fetch shared by every event of a worker (bounded by a
// minute) waiting out that minute after the event stream's leader was stopped. Each round
// trip of a bucket gives up after queue.StoreTimeout, and the caller retries.
func TestBucketRoundTripsGiveUpWhenTheStoreDoesNotAnswer(t *testing.T) {
	js, gone := goneStore(t)
	ctx := context.Background()
	kv, err := queue.Bucket(ctx, js, "bounded", "a test", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	gone()
	giveUpInTime(t, map[string]func(context.Context) error{
		"get":    func(ctx context.Context) error { _, err := kv.Get(ctx, "k"); return err },
		"put":    func(ctx context.Context) error { _, err := kv.Put(ctx, "k", []byte("w")); return err },
		"create": func(ctx context.Context) error { _, err := kv.Create(ctx, "new", []byte("v")); return err },
		"update": func(ctx context.Context) error { _, err := kv.Update(ctx, "k", []byte("w"), 1); return err },
		"delete": func(ctx context.Context) error { return kv.Delete(ctx, "k") },
		"purge":  func(ctx context.Context) error { return kv.Purge(ctx, "k") },
	})
}

// The audit records of an event are published together and their acknowledgements awaited:
// one lost acknowledgement held the event's handler for ever (the consumer kept the event
// alive, unacknowledged, until the process stopped), as nats.go does not time out an
// asynchronous publish unless asked to.
func TestAuditBatchGivesUpWhenTheStoreDoesNotAnswer(t *testing.T) {
	js, gone := goneStore(t)
	q, err := queue.Setup(context.Background(), js, queue.Config{Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	gone()
	giveUpInTime(t, map[string]func(context.Context) error{
		"audit batch": func(ctx context.Context) error {
			return q.AuditBatch(ctx, 1, 1, []any{map[string]string{"a": "b"}, map[string]string{"c": "d"}})
		},
	})
}
