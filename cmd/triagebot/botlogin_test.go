package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// The first event needs the bot's login (GET /app: the App's slug). Asked only then, every
// event of the bot's first moments waited for that round trip as well (at GitHub's 500 ms the
// load tool's first second was 0.3 s slower at p50). It is asked when the process starts,
// alongside NATS; the first event finds it known. A key GitHub refuses shows in /readyz then,
// before any event.
func TestBotLoginIsAskedAtStart(t *testing.T) {
	fake, s := fakeGitHubSettings(t)
	// No ghapp.WithBotLogin: the login is GitHub's to give.
	a, err := start(context.Background(), "serve", s, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), startOptions{reconcileEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := a.shutdown(); err != nil {
			t.Error(err)
		}
	}()
	asked := func() bool {
		for _, r := range fake.Requests() {
			if r.Method == http.MethodGet && r.Route == "/app" && r.Status == http.StatusOK {
				return true
			}
		}
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pollUntil(ctx, asked); err != nil {
		t.Fatalf("GET /app not asked after the start, before any event: %v (requests %v)", err, fake.Requests())
	}
}

func TestRefusedAppKeyShowsInReadyzBeforeAnyEvent(t *testing.T) {
	_, s := fakeGitHubSettings(t)
	_, s.PrivateKeyFile = wrongKeyFile(t)
	a, err := start(context.Background(), "serve", s, zap.NewNop(), startOptions{reconcileEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := a.shutdown(); err != nil {
			t.Error(err)
		}
	}()
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
