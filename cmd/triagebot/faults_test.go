package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/ghfake"
)

// virtualClock is the one time of the in-memory GitHub and of the App. It runs with real time,
// and Sleep moves it forward at once: a wait GitHub asks for (a Retry-After, a primary reset an
// hour away) passes without the test waiting, and both sides agree that it has passed.
type virtualClock struct {
	mu     sync.Mutex
	offset time.Duration
}

var _ ghapp.Clock = (*virtualClock)(nil)

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Sleep makes Now at least d later than when it was called. Concurrent sleepers waiting for the
// same moment move the clock once, as real sleepers would.
func (c *virtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	target := now.Add(c.offset).Add(d)
	if ahead := target.Sub(now); ahead > c.offset {
		c.offset = ahead
	}
	return nil
}

// Ahead is how far the virtual clock has run ahead of real time.
func (c *virtualClock) Ahead() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// fastRetries makes transient failures retry within milliseconds and never dead-letters them
// for lack of attempts, so a fault test checks effects, not patience.
func fastRetries(s *settings) { s.MaxAttempts = 1000 }

func fastBackoff(int) time.Duration { return 2 * time.Millisecond }

// countStatus counts the answers of the request log with a status, writes only when writes.
func countStatus(reqs []ghfake.Request, writes bool, status ...int) int {
	n := 0
	for _, r := range reqs {
		if writes && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			continue
		}
		if slices.Contains(status, r.Status) {
			n++
		}
	}
	return n
}

func assertNoDeadLetters(t *testing.T, l *local) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dls, err := l.App.q.DeadLetters(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dls {
		t.Errorf("dead letter %d: %s %s", d.Seq, d.Header.Get("Nats-Msg-Id"), d.Header)
	}
}

func assertNoViolations(t *testing.T, l *local) {
	t.Helper()
	for _, v := range l.Fake.Violations() {
		t.Errorf("request sent while GitHub said to wait: %s %s (installation %d) at %s, wait until %s: %s",
			v.Method, v.Path, v.InstallationID, v.Time.Format(time.RFC3339Nano), v.WaitUntil.Format(time.RFC3339Nano), v.Reason)
	}
}

// TestFaultsEveryEffectLandsOnce plays one scenario through the whole pipeline while the
// in-memory GitHub fails in the three ways GitHub does: 30% of requests answered 500/502 (half
// of the failing writes having landed first), then a burst of 429s with Retry-After on top, then
// an exhausted primary limit. Every event's effect must land exactly once, nothing may be
// dead-lettered, and no request may reach GitHub while it has said to wait.
//
// The waits pass on a virtual clock shared by the fake (WithClock) and the App (ghapp.WithClock):
// the App's transport sleeps until the Retry-After or x-ratelimit-reset (+1 s) it was given,
// the sleep moves the shared clock, and the fake, seeing that time, lets requests through again
// (for the primary limit it opens a new window with a full budget on the next request).
func TestFaultsEveryEffectLandsOnce(t *testing.T) {
	clk := &virtualClock{}
	l, _ := startLocalT(t, localConfig{
		// Tokens outlive the virtual hour the primary limit makes the App wait: ghinstallation
		// judges a token's expiry by the real clock, the fake by the virtual one.
		Fake:     []ghfake.Option{ghfake.WithClock(clk.Now), ghfake.WithTokenTTL(48 * time.Hour)},
		Settings: fastRetries,
		Start: startOptions{
			backoff: fastBackoff,
			ghapp: []ghapp.Option{
				ghapp.WithClock(clk),
				// Every wait GitHub asks for here happens in-process, on the virtual clock.
				ghapp.WithWaitThreshold(2 * time.Hour),
				// One request at a time per installation: a request already on its way when a
				// limit is answered would otherwise reach the fake inside the window it opened.
				ghapp.WithMaxInFlight(1),
			},
		},
	})
	const repo = "octo-org/rocket"
	inst, err := l.Fake.InstallApp("octo-org", repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.PutFile(repo, "CODE_OF_CONDUCT.md", []byte("# Be kind\n")); err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.SetPermission(repo, "maya", "maintain"); err != nil {
		t.Fatal(err)
	}
	settle(t, l)

	authors := 0
	open := func(n int) []int {
		t.Helper()
		var nums []int
		for i := 0; i < n; i++ {
			authors++
			author := fmt.Sprintf("newcomer%d", authors)
			num, err := l.Fake.OpenIssue(repo, author, "Crash on start "+author, "Steps to reproduce: start it.")
			if err != nil {
				t.Fatal(err)
			}
			nums = append(nums, num)
		}
		return nums
	}
	comment := func(num, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			if _, err := l.Fake.Comment(repo, num, fmt.Sprintf("fan%d", i), "Same here."); err != nil {
				t.Fatal(err)
			}
		}
	}
	label := func(num int, name string) {
		t.Helper()
		if err := l.Fake.AddLabel(repo, num, "maya", name); err != nil {
			t.Fatal(err)
		}
	}

	// 1. 30% of requests fail with 500 or 502; half of the failing writes land first.
	if err := l.Fake.SetFaults(ghfake.Faults{ErrorRate: 0.3, AppliedErrorRate: 0.5, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	issues := open(6)
	// Fans comment once the welcome is there, as in TestEndToEndThroughTheInMemoryGitHub: the
	// priority score subtracts the bot's comments from the count the payload carries.
	settle(t, l)
	for _, n := range issues {
		comment(n, 3)
	}
	settle(t, l)
	failed := map[string]int{}
	for _, r := range l.Fake.Requests() {
		if r.Status >= 500 {
			failed[r.Endpoint()]++
		}
	}
	if countStatus(l.Fake.Requests(), true, 500, 502) == 0 {
		t.Fatalf("no write failed with a 5xx: the fault phase tested nothing (5xx: %v)", failed)
	}
	t.Logf("5xx answers by endpoint: %v", failed)

	// 2. On top, a burst of 429s with Retry-After.
	const burst = 3
	if err := l.Fake.InjectSecondaryLimit(burst, http.StatusTooManyRequests, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	label(issues[0], "bug")
	label(issues[1], "bug")
	comment(issues[2], 2)
	settle(t, l)
	if n := countStatus(l.Fake.Requests(), false, http.StatusTooManyRequests); n != burst {
		t.Fatalf("%d requests answered 429, want the burst of %d", n, burst)
	}

	// 3. The installation's primary budget is spent: the next request is refused with
	// x-ratelimit-remaining: 0 and a reset up to an hour away.
	_, exhaustedReset := l.Fake.RateLimitRemaining(inst)
	l.Fake.ExhaustRateLimit(inst)
	late := open(2)
	label(issues[3], "enhancement")
	settle(t, l)
	refused := countStatus(l.Fake.Requests(), false, http.StatusForbidden)
	if refused == 0 {
		t.Fatal("no request was refused by the exhausted primary limit")
	}
	remaining, reset := l.Fake.RateLimitRemaining(inst)
	if !reset.After(exhaustedReset) || remaining <= 0 {
		t.Fatalf("after the scenario the budget is %d until %s; want a new window after %s", remaining, reset, exhaustedReset)
	}
	if now := clk.Now(); now.Before(exhaustedReset) {
		t.Fatalf("the scenario ended at %s, before the exhausted window's reset %s", now, exhaustedReset)
	}
	t.Logf("virtual time passed: %s; answers 5xx: %d, 429: %d, 403: %d; requests: %d",
		clk.Ahead().Round(time.Second), countStatus(l.Fake.Requests(), false, 500, 502),
		countStatus(l.Fake.Requests(), false, 429), refused, len(l.Fake.Requests()))

	// Each event's effect, exactly once.
	want := map[int][]string{
		issues[0]: {"bug", "priority: low"},
		issues[1]: {"bug", "priority: low"},
		issues[2]: {"needs-triage", "priority: low"},
		issues[3]: {"enhancement", "priority: low"},
		issues[4]: {"needs-triage", "priority: low"},
		issues[5]: {"needs-triage", "priority: low"},
		late[0]:   {"needs-triage"},
		late[1]:   {"needs-triage"},
	}
	for num, labels := range want {
		is, ok := l.Fake.Issue(repo, num)
		if !ok {
			t.Fatalf("issue %d missing", num)
		}
		if diff := cmp.Diff(labels, sorted(is.Labels)); diff != "" {
			t.Errorf("issue %d labels (-want +got):\n%s", num, diff)
		}
		c := botComments(l, repo, num)
		if len(c) != 1 || !strings.Contains(c[0], "@"+is.Author) || !strings.Contains(c[0], "CODE_OF_CONDUCT.md") {
			t.Errorf("issue %d: %d bot comments, want one welcome to @%s: %q", num, len(c), is.Author, c)
		}
	}
	for _, d := range l.Fake.Deliveries() {
		if d.StatusCode != http.StatusAccepted {
			t.Errorf("delivery %s %s.%s answered %d", d.GUID, d.Event, d.Action, d.StatusCode)
		}
	}
	assertNoDeadLetters(t, l)
	assertNoViolations(t, l)
}

// TestTokenExpiryMidRun: GitHub stops accepting the installation token between two steps
// (ExpireTokens: expired early, as after clock skew or a revocation, while the App's cache still
// holds it). The bot must get a new token and carry on, losing no event.
func TestTokenExpiryMidRun(t *testing.T) {
	l, _ := startLocalT(t, localConfig{Settings: fastRetries, Start: startOptions{backoff: fastBackoff}})
	const repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	first, err := l.Fake.OpenIssue(repo, "alice", "Support SSO login", "Please.")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	const tokens = "POST /app/installations/{installation_id}/access_tokens"
	before := l.Fake.RequestStats().ByEndpoint[tokens]

	l.Fake.ExpireTokens()
	second, err := l.Fake.OpenIssue(repo, "bob", "Dark mode", "Please.")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := l.Fake.Comment(repo, first, fmt.Sprintf("fan%d", i), "+1"); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, l)

	if after := l.Fake.RequestStats().ByEndpoint[tokens]; after <= before {
		t.Errorf("access tokens requested %d times before the expiry and %d after: no new token", before, after)
	}
	want := map[int][]string{first: {"needs-triage", "priority: low"}, second: {"needs-triage"}}
	for num, labels := range want {
		is, _ := l.Fake.Issue(repo, num)
		if diff := cmp.Diff(labels, sorted(is.Labels)); diff != "" {
			t.Errorf("issue %d labels (-want +got):\n%s", num, diff)
		}
		if c := botComments(l, repo, num); len(c) != 1 {
			t.Errorf("issue %d: %d bot comments, want the welcome: %q", num, len(c), c)
		}
	}
	assertNoDeadLetters(t, l)
}
