package main

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// The first event needs the bot's login (GET /app: the App's slug). Asked only then, every
// event of the bot's first moments waited for that round trip as well (at GitHub's 500 ms the
// load tool's first second was 0.2 s slower at p50). It is asked when the process starts,
// alongside NATS, and /readyz says "starting" until GitHub has answered. A key GitHub refuses
// shows in /readyz then, before any event.
func TestBotLoginIsAskedAtStart(t *testing.T) {
	asked, answer := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hold := func(next http.Handler) http.Handler { // GET /app waits until the test lets it answer
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/api/v3/app" {
				once.Do(func() { close(asked) })
				select {
				case <-answer:
				case <-r.Context().Done():
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	fake, s := fakeGitHubSettings(t, hold)
	a := startServe(t, s) // no ghapp.WithBotLogin: the login is GitHub's to give
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-asked:
	case <-ctx.Done():
		t.Fatalf("GET /app not asked after the start, before any event (requests %v)", fake.Requests())
	}
	if status, body := get(t, "http://"+a.addr+"/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(body, "GET /app") {
		t.Errorf("/readyz while GitHub has not answered GET /app = %d %q, want 503 saying so", status, body)
	}
	close(answer)
	var status int
	var body string
	if err := pollUntil(ctx, func() bool {
		status, body = get(t, "http://"+a.addr+"/readyz")
		return status == http.StatusOK
	}); err != nil {
		t.Fatalf("/readyz once GitHub answered = %d %q, want 200", status, body)
	}
}

func TestRefusedAppKeyShowsInReadyzBeforeAnyEvent(t *testing.T) {
	_, s := fakeGitHubSettings(t)
	_, s.PrivateKeyFile = wrongKeyFile(t)
	a := startServe(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var status int
	var body string
	if err := pollUntil(ctx, func() bool {
		status, body = get(t, "http://"+a.addr+"/readyz")
		return status == http.StatusServiceUnavailable && strings.Contains(body, "TRIAGEBOT_PRIVATE_KEY_FILE")
	}); err != nil {
		t.Fatalf("/readyz with a key GitHub refuses, before any event: %d %q, want 503 naming the setting", status, body)
	}
}

// startServe starts serve with s (no reconciler runs), shut down when the test ends.
func startServe(t *testing.T, s settings) *app {
	t.Helper()
	a, err := start(context.Background(), "serve", s, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), startOptions{reconcileEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.shutdown(); err != nil {
			t.Error(err)
		}
	})
	return a
}
