package ghapp

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triagebot/triagebot/queue"
)

// While GitHub refuses the App's key, Guard holds the event (no error, so no retry counted and
// no dead letter), Status says why, and once GitHub takes the key the event is handled again.
func TestAuthGateHoldsEventsWhileTheKeyIsRefused(t *testing.T) {
	g := newGHServer(t)
	g.handle("GET /repos/o/r/issues/1", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{"number": 1}) })
	g.mu.Lock()
	g.refuse = true
	g.mu.Unlock()
	a, _ := newTestApp(t, g, WithAuthBackoff(time.Second, 4*time.Second))
	gate := a.AuthGate()
	var calls atomic.Int32
	installation := atomic.Int64{}
	installation.Store(5)
	handler := func(ctx context.Context, m queue.Message) error {
		calls.Add(1)
		_, _, err := a.Installation(installation.Load()).Issues.Get(ctx, "o", "r", 1)
		return Classify(err)
	}
	// Unguarded, the handler's error is neither permanent nor a retry of its own.
	err := handler(context.Background(), queue.Message{})
	if !IsAuthError(err) || queue.IsPermanent(err) {
		t.Fatalf("error = %v, want an AuthError that is not permanent", err)
	}
	if s := gate.Status(); s == nil || !strings.Contains(s.Error(), "TRIAGEBOT_PRIVATE_KEY_FILE") {
		t.Fatalf("Status = %v, want the reason and what to check", s)
	}
	done := make(chan error, 1)
	go func() { done <- gate.Guard(handler)(context.Background(), queue.Message{}) }()
	deadline := time.Now().Add(10 * time.Second)
	for g.tokenCount() < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // polling the fake GitHub's count, with a deadline
	}
	if n := g.tokenCount(); n < 5 {
		t.Fatalf("GitHub asked %d times while it refused the key, want it asked again with backoff", n)
	}
	select {
	case err := <-done:
		t.Fatalf("Guard returned %v while GitHub refused the key", err)
	default:
	}
	g.mu.Lock()
	g.refuse = false
	g.mu.Unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Guard = %v, want the event handled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Guard still waiting after GitHub accepted the key")
	}
	if gate.Status() != nil {
		t.Errorf("Status = %v after GitHub accepted the key", gate.Status())
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("handler ran %d times, want 2 (refused, then handled)", n)
	}

	// A cancelled context ends the wait with its error (the consumer then interrupts).
	installation.Store(6) // no token yet
	g.mu.Lock()
	g.refuse = true
	g.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for gate.Status() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if err := gate.Guard(handler)(ctx, queue.Message{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Guard with a cancelled context = %v", err)
	}
}
