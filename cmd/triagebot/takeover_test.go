package main

import (
	"context"
	"maps"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// A `work` process on an external NATS server is killed (SIGKILL) with events in flight; the
// `work` process started in its place handles them, each exactly once, without waiting out the
// 30 s AckWait of before: a live worker renews what it holds, so TRIAGEBOT_ACK_WAIT's default
// is short, and that is all a dead worker's events wait. The test's deadline (25 s) is below
// the old wait.
func TestRestartedWorkerTakesOverAKilledWorkersEventsOnExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	url := startExternalNATS(t, &server.Options{})
	fake, gate, dir, env := gatedGitHub(t)
	maps.Copy(env, map[string]string{ // TRIAGEBOT_ACK_WAIT: the default
		"TRIAGEBOT_WEBHOOK_SECRET": testSecret,
		"TRIAGEBOT_LISTEN":         "127.0.0.1:0",
		"TRIAGEBOT_NATS_URL":       url,
		"TRIAGEBOT_PARTITIONS":     "4",
	})
	receiver := startProc(t, dir, env, "receive")
	addr := receiver.waitLog("listening", msgIs("listening"))["addr"].(string)
	fake.SetWebhook("http://"+addr+"/webhook", testSecret)
	first := startProc(t, dir, env, "work")
	// The installation is handled first (its labels created, its open issues walked), then
	// GitHub's writes are held.
	gate.openUp()
	const repo = "octo-org/rocket"
	if _, err := fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	// The installation's last step is the repository's backfill: once it is done, its writes are.
	first.waitLog("the repository's backfill", func(m map[string]any) bool {
		return m["msg"] == "walk of the open issues done" && m["walk"] == "backfill"
	})
	gate.setOpen(false)

	// Few issues: GitHub's writes are paced per installation (two per issue here).
	const issues = 4
	openIdeas(t, fake, repo, issues)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	gate.waitHeld(t, "the worker to be mid-way", func(n int) bool { return n > 0 })
	if code, _ := first.stop(syscall.SIGKILL, 10*time.Second); code != -1 {
		t.Fatalf("exit %d, want killed", code)
	}
	gate.waitHeld(t, "the killed worker's requests to end", func(n int) bool { return n == 0 })
	gate.openUp()

	restarted := time.Now()
	second := startProc(t, dir, env, "work")
	soon, cancelSoon := context.WithTimeout(ctx, 25*time.Second)
	defer cancelSoon()
	if err := fake.Wait(soon, issuesHandled(fake, repo, issues, 1)); err != nil {
		t.Fatalf("the killed worker's events were not handled within 25 s of the restart: %v\n%s", err, second.output())
	}
	t.Logf("every event handled %.1fs after the restart", time.Since(restarted).Seconds())
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	second.waitCount("the bot's own comment events read", func(m map[string]any) bool {
		return m["msg"] == "event handled" && m["event"] == "issue_comment" && m["actions"] == float64(0)
	}, issues)
	checkLabelledOnce(t, fake, repo, issues)
	if t.Failed() {
		for _, line := range strings.Split(second.output(), "\n") {
			if strings.Contains(line, `"level":"warn"`) || strings.Contains(line, `"level":"error"`) || strings.Contains(line, `event handled`) {
				t.Log(line)
			}
		}
	}
	for _, p := range []*proc{second, receiver} {
		if code, _ := p.stop(syscall.SIGTERM, 10*time.Second); code != 0 {
			t.Fatalf("exit %d after SIGTERM", code)
		}
	}
}
