package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triagebot/triagebot/internal/ghfake"
)

func TestRedeliverAsksGitHubForFailedDeliveries(t *testing.T) {
	fake := ghfake.New(ghfake.WithPrefix("/api/v3/"))
	defer fake.Close()
	gh := httptest.NewServer(fake)
	defer gh.Close()
	var down atomic.Bool
	down.Store(true)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer receiver.Close()
	fake.SetWebhook(receiver.URL, "s")
	if _, err := fake.InstallApp("octo-org", "octo-org/rocket"); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.OpenIssue("octo-org/rocket", "alice", "t", "b"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	failed := len(fake.Deliveries())

	setBotEnv(t, fake, gh.URL, t.TempDir())

	code, out, errOut := runCmd(t, "redeliver", "--list")
	if code != 0 || strings.Count(out, "not redelivered (--list)") != failed || !strings.Contains(out, "issues.opened (answered 503") {
		t.Fatalf("--list: exit %d, %d failed deliveries\n%s%s", code, failed, out, errOut)
	}
	down.Store(false)
	code, out, errOut = runCmd(t, "redeliver", "--since", "1h")
	if code != 0 || strings.Count(out, "redelivered ") != failed {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	redelivered := 0
	for _, d := range fake.Deliveries() {
		if d.Redelivery && d.StatusCode == http.StatusAccepted {
			redelivered++
		}
	}
	if redelivered != failed {
		t.Fatalf("%d redeliveries answered 202, want %d", redelivered, failed)
	}
	if code, out, _ := runCmd(t, "redeliver"); code != 0 || !strings.Contains(out, "no failed deliveries in the last 24h0m0s") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCmd(t, "redeliver", "--since", "5d"); code != 2 || !strings.Contains(errOut, `--since: expected duration but got "5d"`) {
		t.Fatalf("bad --since: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "redeliver", "--since=100h"); code != 2 || !strings.Contains(errOut, `--since: 100h0m0s is not a duration up to 72h`) {
		t.Fatalf("--since over 72h: exit %d %s", code, errOut)
	}
}
