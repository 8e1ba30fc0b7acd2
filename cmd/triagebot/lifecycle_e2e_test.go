package main

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/ghfake"
)

const day = 24 * time.Hour

// lifecycleConfig turns the lifecycle on; priority is off so that the comments of the story do
// not give the issue community attention (which would exempt it).
const lifecycleConfig = "lifecycle:\n  enabled: true\npriority:\n  enabled: false\n"

// startLifecycleLocal runs the bot against the in-memory GitHub on a virtual clock shared by
// GitHub, the App and the timers, which the tests move on by days: a timer held back is looked
// at again every few milliseconds, so a due one fires at once. The clock starts behind real time
// by behind (the past of a repository), and must have caught up when the App is installed: the
// App signs its JWT on the real clock.
func startLifecycleLocal(t *testing.T, behind time.Duration) (*local, *virtualClock) {
	t.Helper()
	clk := &virtualClock{offset: -behind}
	l, _ := startLocalT(t, localConfig{
		// The installation tokens outlive the story's virtual year: ghinstallation judges their
		// expiry by the real clock, the fake by the virtual one, and the App's JWT (real clock)
		// would not be accepted once the virtual clock is months ahead.
		Fake: []ghfake.Option{ghfake.WithClock(clk.Now), ghfake.WithTokenTTL(500 * day)},
		Start: startOptions{
			ghapp:          []ghapp.Option{ghapp.WithClock(clk)},
			reconcileEvery: -1, // it asks GitHub with the App's JWT
			timers:         handlers.TimersConfig{Now: clk.Now, MaxHold: 5 * time.Millisecond},
		},
	})
	return l, clk
}

// advance moves the virtual clock on by d.
func advance(t *testing.T, clk *virtualClock, d time.Duration) {
	t.Helper()
	if err := clk.Sleep(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// waitIssue waits until the issue on GitHub satisfies cond.
func waitIssue(t *testing.T, l *local, repo string, n int, what string, cond func(ghfake.Issue) bool) ghfake.Issue {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last ghfake.Issue
	if err := l.Fake.Wait(ctx, func() bool {
		last, _ = l.Fake.Issue(repo, n)
		return cond(last)
	}); err != nil {
		t.Fatalf("%s#%d: waiting for %s: %v; the issue: %s %v", repo, n, what, err, last.State, last.Labels)
	}
	return last
}

func hasLabel(name string) func(ghfake.Issue) bool {
	return func(is ghfake.Issue) bool { return slices.Contains(is.Labels, name) }
}

// dueTimersDone reports whether every timer due by the virtual clock was checked: the timers
// stream (a work queue) holds none due.
func dueTimersDone(t *testing.T, l *local, clk *virtualClock) func() bool {
	return func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := l.App.q.JetStream().Stream(ctx, handlers.TimersStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		now := clk.Now()
		for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			var c handlers.UntriagedCheck
			if err := json.Unmarshal(m.Data, &c); err != nil {
				t.Fatal(err)
			}
			if !c.DueAt.After(now) {
				return false
			}
		}
		return true
	}
}

// lifecycleComments are the keys of the bot's lifecycle comments on an issue (their markers).
func lifecycleComments(l *local, repo string, n int) []string {
	var out []string
	for _, c := range botComments(l, repo, n) {
		if key, ok := strings.CutPrefix(c, "<!-- triagebot:lifecycle:"); ok {
			out = append(out, strings.TrimSpace(key[:strings.Index(key, "-->")]))
		}
	}
	return out
}

// TestLifecycleEndToEndOnAVirtualClock is an issue's whole idle life through GitHub's API and
// webhooks (issue 12 §2): 60 idle days bring one stale warning and the label; a person's comment
// takes it back (and the superseded timer does nothing); /lifecycle frozen keeps it open however
// long it idles; /remove-lifecycle frozen lets it age again; stale again (a second warning), 14
// days later it is closed as not planned, saying how to reopen; its author's /reopen brings it
// back, without the stale label.
func TestLifecycleEndToEndOnAVirtualClock(t *testing.T) {
	l, clk := startLifecycleLocal(t, 0)
	const repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.SetPermission(repo, "maya", "maintain"); err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.PutFile(repo, ".github/triagebot.yml", []byte(lifecycleConfig)); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	n, err := l.Fake.OpenIssue(repo, "alice", "Crash on start", "It crashes when started without a config file.")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	// Triaged by a maintainer: untriaged issues never go stale.
	if err := l.Fake.AddLabel(repo, n, "maya", "bug"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if is, _ := l.Fake.Issue(repo, n); !cmp.Equal(is.Labels, []string{"bug"}) {
		t.Fatalf("labels before idling: %v", is.Labels)
	}
	comment := func(user, body string) {
		t.Helper()
		if _, err := l.Fake.Comment(repo, n, user, body); err != nil {
			t.Fatal(err)
		}
		settle(t, l)
	}

	// 61 idle days: stale, one warning.
	advance(t, clk, 61*day)
	waitIssue(t, l, repo, n, "the stale label", hasLabel("lifecycle/stale"))
	settle(t, l)

	// A comment takes it back; the timer that would close it finds newer activity and stops.
	comment("bob", "Still happens on 2.3.")
	is := waitIssue(t, l, repo, n, "the stale label removed", func(is ghfake.Issue) bool { return !hasLabel("lifecycle/stale")(is) })
	advance(t, clk, 30*day)
	waitFor(t, "the superseded timer dropped", dueTimersDone(t, l, clk))
	if is, _ = l.Fake.Issue(repo, n); is.State != "open" || !cmp.Equal(is.Labels, []string{"bug"}) {
		t.Fatalf("30 days after the comment: %s %v", is.State, is.Labels)
	}

	// Frozen: never stale, however long it idles.
	comment("maya", "/lifecycle frozen")
	waitIssue(t, l, repo, n, "the frozen label", hasLabel("lifecycle/frozen"))
	advance(t, clk, 100*day)
	waitFor(t, "the frozen issue's timer dropped", dueTimersDone(t, l, clk))
	if is, _ = l.Fake.Issue(repo, n); is.State != "open" || hasLabel("lifecycle/stale")(is) {
		t.Fatalf("100 days frozen: %s %v", is.State, is.Labels)
	}

	// Thawed, it ages again: stale, then closed as not planned 14 days later.
	comment("maya", "/remove-lifecycle frozen")
	waitIssue(t, l, repo, n, "the frozen label removed", func(is ghfake.Issue) bool { return !hasLabel("lifecycle/frozen")(is) })
	advance(t, clk, 61*day)
	waitIssue(t, l, repo, n, "stale again", hasLabel("lifecycle/stale"))
	settle(t, l)
	advance(t, clk, 15*day)
	is = waitIssue(t, l, repo, n, "closed", func(is ghfake.Issue) bool { return is.State == "closed" })
	settle(t, l)
	if is.StateReason != "not_planned" {
		t.Errorf("closed as %q, want not_planned", is.StateReason)
	}
	if diff := cmp.Diff([]string{"stale-1", "stale-2", "closed-2"}, lifecycleComments(l, repo, n)); diff != "" {
		t.Errorf("one warning per cycle, then the closing note (-want +got):\n%s", diff)
	}
	bodies := botComments(l, repo, n)
	if last := bodies[len(bodies)-1]; !strings.Contains(last, "reopen it (`/reopen` works for its author)") {
		t.Errorf("the closing note does not say how to reopen: %q", last)
	}

	// Its author reopens it: open again, no longer stale.
	comment("alice", "/reopen\nIt still crashes on 2.4.")
	is = waitIssue(t, l, repo, n, "reopened without the stale label", func(is ghfake.Issue) bool {
		return is.State == "open" && !hasLabel("lifecycle/stale")(is)
	})
	settle(t, l)
	assertNoDeadLetters(t, l)
}

// Issues older than the installation, on which the bot never saw activity, go stale too (issue
// 12 §2: the sweep covers them): the walk of the open issues on installation gives each its idle
// timer from its last update, and a repository whose lifecycle is turned on later (a push of its
// configuration) gets the same walk. An untriaged old issue (the backfill labels it
// needs-triage) never goes stale.
func TestOldIssuesGoStaleThroughTheWalk(t *testing.T) {
	l, clk := startLifecycleLocal(t, 30*day)
	const onAtInstall, onLater = "octo-org/rocket", "octo-org/comet"
	old := map[string][2]int{} // repository → a triaged and an untriaged issue
	for _, repo := range []string{onAtInstall, onLater} {
		if err := l.Fake.CreateRepository(repo); err != nil {
			t.Fatal(err)
		}
		triaged, err := l.Fake.OpenIssue(repo, "alice", "Old crash", "It crashes.", "bug")
		if err != nil {
			t.Fatal(err)
		}
		untriaged, err := l.Fake.OpenIssue(repo, "bob", "Old question", "How do I start it?")
		if err != nil {
			t.Fatal(err)
		}
		old[repo] = [2]int{triaged, untriaged}
	}
	if err := l.Fake.PutFile(onAtInstall, ".github/triagebot.yml", []byte(lifecycleConfig)); err != nil {
		t.Fatal(err)
	}
	advance(t, clk, 30*day) // the issues were quiet for a month before the App came
	if _, err := l.Fake.InstallApp("octo-org", onAtInstall, onLater); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	for repo, n := range old {
		if is, _ := l.Fake.Issue(repo, n[1]); !hasLabel("needs-triage")(is) {
			t.Fatalf("%s#%d: the backfill did not label the untriaged issue: %v", repo, n[1], is.Labels)
		}
	}
	// A week later, comet's maintainers turn the lifecycle on.
	advance(t, clk, 7*day)
	if err := l.Fake.PutFile(onLater, ".github/triagebot.yml", []byte(lifecycleConfig)); err != nil {
		t.Fatal(err)
	}
	settle(t, l)

	// rocket's issue was last updated 60 days ago 23 days after the install; comet's too.
	advance(t, clk, 23*day)
	for repo, n := range old {
		waitIssue(t, l, repo, n[0], "the stale label", hasLabel("lifecycle/stale"))
	}
	settle(t, l)
	waitFor(t, "every due timer checked", dueTimersDone(t, l, clk))
	for repo, n := range old {
		if got := lifecycleComments(l, repo, n[0]); !cmp.Equal(got, []string{"stale-1"}) {
			t.Errorf("%s#%d: lifecycle comments %v, want one warning", repo, n[0], got)
		}
		if is, _ := l.Fake.Issue(repo, n[1]); hasLabel("lifecycle/stale")(is) || len(lifecycleComments(l, repo, n[1])) != 0 {
			t.Errorf("%s#%d: the untriaged issue went stale: %v", repo, n[1], is.Labels)
		}
	}
	assertNoDeadLetters(t, l)
}
