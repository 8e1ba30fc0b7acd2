package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/ghfake"
)

const economyConfig = `# triagebot configuration of octo-org/rocket
priority:
  hysteresis: 2
code_of_conduct:
  welcome_first_time: true
`

// economyPhase is what one step of the scenario cost on GitHub.
type economyPhase struct {
	name            string
	userEvents, own int // webhook deliveries handled: caused by people, caused by the bot
	attempts        int // handlings of the people's events that acted (more than one: retried)
	handled         int // those events
	stats           ghfake.RequestStats
}

// TestAPIEconomy measures (it does not assert) how many GitHub requests the bot makes per
// event on a scripted scenario of more than 200 webhook deliveries through the whole pipeline:
// the installation, two configuration pushes, 40 issues opened by first-time authors (20 one at
// a time, 20 at once), 140 comments, 30 maintainer labels. The figures are logged:
//
//	go test -run TestAPIEconomy -v ./cmd/triagebot/
//
// "Events" are the webhook deliveries handled, split into those people caused and those the
// bot's own changes caused (which the worker skips without a request); "attempts" counts the
// handlings of the people's events that acted, so attempts above events are retries. Reads are
// GETs answered with a body, 304s the conditional GETs answered Not Modified, writes everything
// else. A run takes seconds, so no cached configuration or lookup reaches its five-minute
// revalidation: 304s show only on longer runs. Only the final state is asserted.
func TestAPIEconomy(t *testing.T) {
	// Retries are fast here (the figures count requests, not seconds) and never give up: a burst
	// makes events retry on conflicting repository memory (see the attempts column).
	// One clock for the in-memory GitHub and the App, so that a phase can come "later" and see
	// the configuration cache revalidated with If-None-Match.
	clock := &virtualClock{}
	l, logs := startLocalT(t, localConfig{
		Settings: fastRetries,
		Fake:     []ghfake.Option{ghfake.WithClock(clock.Now)},
		Start:    startOptions{backoff: fastBackoff, ghapp: []ghapp.Option{ghapp.WithClock(clock)}},
	})
	const repo = "octo-org/rocket"
	const issues = 40
	var phases []economyPhase
	seen, seenLogs := 0, 0
	measure := func(name string, step func()) {
		t.Helper()
		l.Fake.ResetRequests()
		step()
		settle(t, l)
		p := economyPhase{name: name, stats: l.Fake.RequestStats()}
		entries := logs.All()
		for _, e := range entries[seenLogs:] {
			if e.Message == "event handled" {
				p.handled++
				if a, ok := e.ContextMap()["attempt"].(int64); ok {
					p.attempts += int(a)
				}
			}
		}
		seenLogs = len(entries)
		ds := l.Fake.Deliveries()
		for _, d := range ds[seen:] {
			if sender(t, d) == l.Fake.BotLogin() {
				p.own++
			} else {
				p.userEvents++
			}
		}
		seen = len(ds)
		phases = append(phases, p)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	measure("install, config, code of conduct", func() {
		_, err := l.Fake.InstallApp("octo-org", repo)
		must(err)
		settle(t, l) // the repository exists once the installation is handled
		must(l.Fake.PutFile(repo, ".github/triagebot.yml", []byte(economyConfig)))
		must(l.Fake.PutFile(repo, "CODE_OF_CONDUCT.md", []byte("# Be kind\n")))
		must(l.Fake.SetPermission(repo, "maya", "maintain"))
	})
	var nums []int
	openIssue := func() {
		i := len(nums)
		n, err := l.Fake.OpenIssue(repo, fmt.Sprintf("newcomer%d", i), fmt.Sprintf("Crash %d on start", i), "Steps: start it.")
		must(err)
		nums = append(nums, n)
	}
	measure("20 issues opened one at a time", func() {
		for range issues / 2 {
			openIssue()
			settle(t, l)
		}
	})
	measure("20 issues opened at once", func() {
		for range issues / 2 {
			openIssue()
		}
	})
	measure("3 comments on every issue", func() {
		for _, n := range nums {
			for j := range 3 {
				_, err := l.Fake.Comment(repo, n, fmt.Sprintf("fan%d", j), "Same here, on Linux.")
				must(err)
			}
		}
	})
	measure("maintainer labels 30 issues", func() {
		for _, n := range nums[:30] {
			must(l.Fake.AddLabel(repo, n, "maya", "bug"))
		}
	})
	measure("config push, then 20 comments", func() {
		must(l.Fake.PutFile(repo, ".github/triagebot.yml", []byte(economyConfig+"# tuned\n")))
		for _, n := range nums[30:] {
			for j := 3; j < 5; j++ {
				_, err := l.Fake.Comment(repo, n, fmt.Sprintf("fan%d", j), "Any news?")
				must(err)
			}
		}
	})

	measure("6 minutes later: a comment on 10 issues", func() {
		must(clock.Sleep(context.Background(), 6*time.Minute)) // past the 5-minute revalidation
		for _, n := range nums[:10] {
			_, err := l.Fake.Comment(repo, n, "fan9", "Still happening.")
			must(err)
		}
	})

	// The final state: every event's effect, once.
	for i, n := range nums {
		is, _ := l.Fake.Issue(repo, n)
		want := []string{"needs-triage", "priority: low"}
		if i < 30 {
			want = []string{"bug", "priority: low"}
		}
		if diff := cmp.Diff(want, sorted(is.Labels)); diff != "" {
			t.Errorf("issue %d labels (-want +got):\n%s", n, diff)
		}
		if c := botComments(l, repo, n); len(c) != 1 {
			t.Errorf("issue %d: %d bot comments, want the welcome", n, len(c))
		}
	}
	assertNoDeadLetters(t, l)

	total := economyPhase{name: "total", stats: ghfake.RequestStats{ByEndpoint: map[string]int{}}}
	for _, p := range phases {
		total.userEvents += p.userEvents
		total.own += p.own
		total.handled += p.handled
		total.attempts += p.attempts
		total.stats.Total += p.stats.Total
		total.stats.Reads += p.stats.Reads
		total.stats.Writes += p.stats.Writes
		total.stats.NotModified += p.stats.NotModified
		for k, v := range p.stats.ByEndpoint {
			total.stats.ByEndpoint[k] += v
		}
	}
	t.Logf("%-40s %6s %4s %8s %8s %6s %6s %5s %9s", "phase", "events", "own", "attempts", "requests", "reads", "writes", "304s", "req/event")
	for _, p := range append(phases, total) {
		t.Logf("%-40s %6d %4d %4d/%-3d %8d %6d %6d %5d %9.2f", p.name, p.userEvents, p.own, p.attempts, p.handled,
			p.stats.Total, p.stats.Reads, p.stats.Writes, p.stats.NotModified, float64(p.stats.Total)/float64(max(p.userEvents, 1)))
	}
	ev := float64(total.userEvents)
	t.Logf("per event (%d events people caused, %d the bot caused, %d deliveries): %.3f reads, %.3f writes, %.3f 304s, %.3f requests",
		total.userEvents, total.own, total.userEvents+total.own,
		float64(total.stats.Reads)/ev, float64(total.stats.Writes)/ev, float64(total.stats.NotModified)/ev, float64(total.stats.Total)/ev)
	for _, k := range slices.Sorted(maps.Keys(total.stats.ByEndpoint)) {
		t.Logf("  %5d  %.3f/event  %s", total.stats.ByEndpoint[k], float64(total.stats.ByEndpoint[k])/ev, k)
	}
	if total.userEvents < 200 {
		t.Errorf("the scenario has %d events people caused, want at least 200", total.userEvents)
	}
}

// sender is the login of whoever caused a delivery (the payload's sender).
func sender(t *testing.T, d ghfake.Delivery) string {
	t.Helper()
	var p struct {
		Sender struct {
			Login string `json:"login"`
		} `json:"sender"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		t.Fatalf("delivery %s: %v", d.GUID, err)
	}
	return strings.TrimSpace(p.Sender.Login)
}
