package ghapp

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/triagebot/triagebot/queue"
)

// A GitHub that takes a request and never answers (a connection whose packets a NAT or proxy
// drops) must not hold the event's handler for as long as the process lives: the request fails
// after ResponseTimeout as an unreachable GitHub does, and the event is retried.
func TestGitHubThatNeverAnswersFailsTheRequestForRetry(t *testing.T) {
	g := newGHServer(t)
	release := make(chan struct{})
	g.handle("GET /repos/o/r/issues/1", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // before the server closes: it waits for its handlers
	tr := NewTransport()
	if tr.ResponseHeaderTimeout != ResponseTimeout {
		t.Fatalf("NewTransport waits %v for an answer, want ResponseTimeout (%v)", tr.ResponseHeaderTimeout, ResponseTimeout)
	}
	tr.ResponseHeaderTimeout = 100 * time.Millisecond // the same bound, shorter for the test
	a, err := New(Config{AppID: 42, PrivateKeyPEM: testKey(t), BaseURL: g.baseURL(), Transport: tr}, WithBotLogin("triagebot[bot]"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)

	caller, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err = a.Installation(1).Issues.Get(caller, "o", "r", 1)
	if caller.Err() != nil {
		t.Fatalf("the request returned only at the caller's deadline (%v): a GitHub that never answers holds the event", err)
	}
	if err == nil {
		t.Fatal("a request GitHub never answered succeeded")
	}
	if queue.IsPermanent(Classify(err)) {
		t.Errorf("%v is permanent: the event would be dead-lettered rather than retried", err)
	}
	t.Logf("the event sees: %v", Classify(err))
}
