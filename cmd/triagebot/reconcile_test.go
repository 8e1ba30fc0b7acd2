package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/queue"
)

// The bot is stopped, 20 events happen on GitHub (every delivery fails: nothing listens), the
// bot starts again: its reconciler asks GitHub for each of them, nobody runs a command, and
// every one is handled exactly once.
func TestReconcilerRecoversWhatHappenedWhileTheBotWasDown(t *testing.T) {
	l, logs := startLocalT(t, localConfig{Start: startOptions{reconcilePace: time.Millisecond}})
	const repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	before := len(l.Fake.Deliveries())
	const issues = 10
	for i := 1; i <= issues; i++ {
		n, err := l.Fake.OpenIssue(repo, fmt.Sprintf("user%d", i), fmt.Sprintf("idea %d", i), "please")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Fake.Comment(repo, n, fmt.Sprintf("fan%d", i), "me too"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := l.Fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	missed := map[string]bool{}
	for _, d := range l.Fake.Deliveries()[before:] {
		if d.StatusCode != 0 {
			t.Fatalf("delivery %s answered %d while the bot was down", d.GUID, d.StatusCode)
		}
		missed[d.GUID] = true
	}
	if len(missed) != 2*issues {
		t.Fatalf("%d deliveries missed, want %d", len(missed), 2*issues)
	}

	if err := l.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	done := issuesHandled(l.Fake, repo, issues, 2)
	if err := l.Fake.Wait(ctx, done); err != nil {
		for _, e := range logs.All() {
			if e.LoggerName == "reconcile" || e.Level > 0 {
				t.Logf("%s %s %v", e.Level, e.Message, e.ContextMap())
			}
		}
		t.Fatalf("the missed events were not recovered: %v", err)
	}
	settle(t, l)

	attempts := map[string][]int{}
	for _, d := range l.Fake.Deliveries()[before:] {
		if missed[d.GUID] {
			attempts[d.GUID] = append(attempts[d.GUID], d.StatusCode)
		}
	}
	for guid := range missed {
		if diff := cmp.Diff([]int{0, http.StatusAccepted}, attempts[guid]); diff != "" {
			t.Errorf("delivery %s attempts (-want +got):\n%s", guid, diff)
		}
		if st, err := l.App.q.DeliveryState(ctx, guid); err != nil || st != queue.DeliveryHandled {
			t.Errorf("delivery %s: ledger %q, %v", guid, st, err)
		}
		if n := len(logs.FilterMessage("event handled").FilterField(zap.String("delivery_id", guid)).All()); n != 1 {
			t.Errorf("delivery %s handled %d times, want 1", guid, n)
		}
	}
	for i := 1; i <= issues; i++ {
		is, _ := l.Fake.Issue(repo, i)
		welcomes := 0
		for _, c := range is.Comments {
			if c.User == l.Fake.BotLogin() && strings.Contains(c.Body, "triagebot:") {
				welcomes++
			}
		}
		if !cmp.Equal(is.Labels, []string{"needs-triage"}) || welcomes != 1 {
			t.Errorf("issue %d: labels %v, %d bot comments; want needs-triage and one welcome", i, is.Labels, welcomes)
		}
	}
	if n := len(logs.FilterMessage("redelivery asked for").All()); n != 2*issues {
		t.Errorf("%d redeliveries asked for, want %d", n, 2*issues)
	}
	// A second run finds nothing left to do.
	again := &handlers.Reconciler{Source: l.App.github, Ledger: l.App.q, Store: l.App.q, Every: time.Nanosecond}
	rep, ok, err := again.Reconcile(ctx)
	if err != nil || !ok || rep.Failed != 0 || rep.Redelivered != 0 {
		t.Errorf("second run: %+v, ran %v, %v; want nothing failed", rep, ok, err)
	}
}
