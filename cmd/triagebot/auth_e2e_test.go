package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/ghfake"
)

// A wrong App key used to dead-letter every event at once. Now the events wait: /readyz says
// why, the log says what to check, GitHub is asked again with backoff, and once it accepts the
// key every event is handled, none dead-lettered.
func TestWrongAppKeyHoldsEventsUntilGitHubAcceptsIt(t *testing.T) {
	const repo = "octo-org/rocket"
	wrong, keyFile := wrongKeyFile(t)
	l, logs := startLocalT(t, localConfig{
		Fake:     []ghfake.Option{ghfake.WithInstallation(7, "octo-org", repo)},
		Settings: func(s *settings) { s.PrivateKeyFile = keyFile; s.MaxAttempts = 2 },
		Start:    startOptions{ghapp: []ghapp.Option{ghapp.WithAuthBackoff(20*time.Millisecond, 100*time.Millisecond)}},
	})
	var numbers []int
	for _, title := range []string{"one", "two", "three"} {
		n, err := l.Fake.OpenIssue(repo, "alice", title, "body")
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.Fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// GitHub is asked again and again (more often than the 2 attempts an event has).
	refused := func() int {
		n := 0
		for _, r := range l.Fake.Requests() {
			if strings.HasSuffix(r.Route, "/access_tokens") && r.Status == http.StatusUnauthorized {
				n++
			}
		}
		return n
	}
	if err := l.Fake.Wait(ctx, func() bool { return refused() >= 6 }); err != nil {
		t.Fatalf("%d refused token requests: %v", refused(), err)
	}
	status, body := get(t, "http://"+l.App.addr+"/readyz")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "TRIAGEBOT_PRIVATE_KEY_FILE") || !strings.Contains(body, "HTTP 401") {
		t.Errorf("/readyz while GitHub refuses the key = %d %q, want 503 naming the setting", status, body)
	}
	if n, err := l.pending(ctx); err != nil || n != 3 {
		t.Errorf("%d events stored (%v), want the 3 held", n, err)
	}
	assertNoDeadLetters(t, l)
	if got := logs.FilterMessageSnippet("GitHub refuses the App's credentials").FilterLevelExact(zapcore.ErrorLevel).Len(); got != 1 {
		t.Errorf("%d error lines about the credentials, want 1", got)
	}

	// The maintainer adds the key to the App: the held events are handled.
	l.Fake.AddAppKey(&wrong.PublicKey)
	settle(t, l)
	assertNoDeadLetters(t, l)
	for _, n := range numbers {
		if is, _ := l.Fake.Issue(repo, n); len(is.Labels) != 1 || is.Labels[0] != "needs-triage" {
			t.Errorf("issue %d labels %v, want needs-triage", n, is.Labels)
		}
	}
	if status, body := get(t, "http://"+l.App.addr+"/readyz"); status != http.StatusOK {
		t.Errorf("/readyz after GitHub accepted the key = %d %q", status, body)
	}
}

// wrongKeyFile is a private key GitHub does not know for the App, and a file holding it.
func wrongKeyFile(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	wrong, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "other-key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(wrong)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return wrong, keyFile
}
