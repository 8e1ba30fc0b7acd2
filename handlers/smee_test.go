package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// smeeChannel is a local server speaking smee.io's Server-Sent Events: a "ready" event on
// connecting, "ping" events, and each delivery as a message whose data is a JSON object of the
// request's headers (lower-case keys), its parsed body, query and timestamp. Each connection
// gets the next batch of events and is then closed, so the client has to reconnect.
type smeeChannel struct {
	mu          sync.Mutex
	batches     [][]string
	connections int
}

func (c *smeeChannel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Accept") != "text/event-stream" {
		http.Error(w, "not an event stream", http.StatusNotAcceptable)
		return
	}
	c.mu.Lock()
	c.connections++
	var batch []string
	if len(c.batches) > 0 {
		batch, c.batches = c.batches[0], c.batches[1:]
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	id := 0
	fmt.Fprintf(w, "id: %d\nevent: ready\ndata: {}\n\n", id)
	for _, data := range batch {
		id++
		fmt.Fprintf(w, "id: %d\ndata: %s\n\n", id, data)
		id++
		fmt.Fprintf(w, "id: %d\nevent: ping\ndata: {}\n\n", id)
	}
	w.(http.Flusher).Flush()
	if batch == nil {
		<-r.Context().Done() // nothing more: hold the stream open until the client goes
	}
}

// smeeMessage is what smee.io sends for a POST it received: the headers GitHub sent, and the
// body as JSON.stringify of the parsed payload (compact: what GitHub sends, too).
func smeeMessage(t *testing.T, event, id, sig string, payload []byte) string {
	t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, payload); err != nil {
		t.Fatal(err)
	}
	if sig == "" {
		sig = sign(secret, compact.Bytes())
	}
	msg := map[string]any{
		"host": "smee.io", "content-type": "application/json", "content-length": "999",
		"x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": sig,
		"user-agent": "GitHub-Hookshot/abc", "body": json.RawMessage(compact.Bytes()),
		"query": map[string]any{}, "timestamp": 1700000000000,
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(msg); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(out.Bytes()))
}

// Deliveries from the channel are verified and stored as direct ones; a forged one is refused;
// a dropped stream is reconnected; the channel is logged once.
func TestSmeeChannel(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	core, logs := observer.New(zapcore.InfoLevel)
	log := zap.New(core)
	r, err := handlers.NewReceiver(q, []string{secret}, log)
	if err != nil {
		t.Fatal(err)
	}
	opened, comment := payload(t, "issues/opened.json"), payload(t, "issue_comment/created.json")
	channel := &smeeChannel{batches: [][]string{
		{
			smeeMessage(t, "issues", "smee-1", "", opened),
			smeeMessage(t, "issues", "forged-1", sign("guess", opened), opened),
		},
		{smeeMessage(t, "issue_comment", "smee-2", "", comment)},
	}}
	srv := httptest.NewServer(channel)
	defer srv.Close()

	smee := &handlers.Smee{URL: srv.URL + "/abc123", Handler: r, Logger: log, Backoff: func(int) time.Duration { return time.Millisecond }}
	smee.Start(context.Background())
	defer smee.Stop()

	waitFor(t, "both genuine deliveries stored", func() bool { return streamMsgs(t, q) == 2 })
	waitFor(t, "the forged delivery refused", func() bool {
		return logs.FilterMessage("smee delivery").FilterField(zap.String("delivery_id", "forged-1")).FilterField(zap.Int("status", 401)).Len() == 1
	})
	waitFor(t, "a third connection after the second stream dropped", func() bool {
		channel.mu.Lock()
		defer channel.mu.Unlock()
		return channel.connections >= 3
	})
	smee.Stop()
	for _, id := range []string{"smee-1", "smee-2"} {
		if logs.FilterMessage("smee delivery").FilterField(zap.String("delivery_id", id)).FilterField(zap.Int("status", 202)).Len() != 1 {
			t.Errorf("no 202 logged for %s: %v", id, logs.All())
		}
	}
	if n := logs.FilterFieldKey("channel").Len(); n != 1 {
		t.Errorf("the channel is logged %d times, want once", n)
	}
	if n := logs.FilterMessageSnippet("signature rejected").Len(); n != 1 {
		t.Errorf("%d warnings of a rejected signature, want 1", n)
	}
}

// A channel that is down is retried with backoff until it answers.
func TestSmeeChannelDown(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	r, err := handlers.NewReceiver(q, []string{secret}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	attempts := 0
	channel := &smeeChannel{batches: [][]string{{smeeMessage(t, "issues", "late", "", payload(t, "issues/opened.json"))}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		attempts++
		down := attempts <= 3
		mu.Unlock()
		if down {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		channel.ServeHTTP(w, req)
	}))
	defer srv.Close()
	var waits []int
	smee := &handlers.Smee{URL: srv.URL + "/ch", Handler: r, Logger: zap.NewNop(), Backoff: func(n int) time.Duration {
		mu.Lock()
		waits = append(waits, n)
		mu.Unlock()
		return time.Millisecond
	}}
	smee.Start(context.Background())
	defer smee.Stop()
	waitFor(t, "the delivery stored once the channel is up", func() bool { return streamMsgs(t, q) == 1 })
	smee.Stop()
	mu.Lock()
	defer mu.Unlock()
	if len(waits) < 3 || waits[0] != 0 || waits[1] != 1 || waits[2] != 2 {
		t.Fatalf("backoff asked for failures %v, want 0, 1, 2, ... in a row", waits)
	}
}

func TestSmeeBackoff(t *testing.T) {
	got := []time.Duration{handlers.SmeeBackoff(0), handlers.SmeeBackoff(1), handlers.SmeeBackoff(5), handlers.SmeeBackoff(50)}
	want := []time.Duration{time.Second, 2 * time.Second, 32 * time.Second, time.Minute}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SmeeBackoff = %v, want %v", got, want)
		}
	}
}
