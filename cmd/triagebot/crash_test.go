package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/triagebot/triagebot/internal/ghfake"
)

// writeGate holds every write to GitHub while closed, so a process's workers cannot finish.
// A held request is never passed on: when its client dies, the request ends unanswered.
type writeGate struct {
	next http.Handler

	mu      sync.Mutex
	open    bool
	held    int
	changed chan struct{}
}

func newWriteGate(next http.Handler) *writeGate {
	return &writeGate{next: next, changed: make(chan struct{}, 1)}
}

func (g *writeGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	write := r.Method != http.MethodGet && !strings.HasSuffix(r.URL.Path, "/access_tokens")
	g.mu.Lock()
	if write && !g.open {
		// The server notices a closed connection only once the body has been read.
		_, _ = io.Copy(io.Discard, r.Body)
		g.held++
		g.signal()
		g.mu.Unlock()
		<-r.Context().Done() // the process was killed
		g.mu.Lock()
		g.held--
		g.signal()
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	g.next.ServeHTTP(w, r)
}

func (g *writeGate) signal() {
	select {
	case g.changed <- struct{}{}:
	default:
	}
}

// waitHeld waits until cond holds for the number of held requests.
func (g *writeGate) waitHeld(t *testing.T, what string, cond func(int) bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		g.mu.Lock()
		n := g.held
		g.mu.Unlock()
		if cond(n) {
			return
		}
		select {
		case <-g.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s (%d held)", what, n)
		}
	}
}

func (g *writeGate) openUp() { g.setOpen(true) }

func (g *writeGate) setOpen(open bool) {
	g.mu.Lock()
	g.open = open
	g.mu.Unlock()
}

// A serve process that answered 202 to a batch of deliveries and is killed with SIGKILL before
// its workers finish handles every one of them after a restart on the same data directory,
// each exactly once.
func TestCrashAfterAcceptingLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	fake, gate, dir, env := gatedGitHub(t)
	maps.Copy(env, map[string]string{
		"TRIAGEBOT_WEBHOOK_SECRET": testSecret,
		"TRIAGEBOT_LISTEN":         "127.0.0.1:0",
		"TRIAGEBOT_ADMIN_LISTEN":   "127.0.0.1:0",
		"TRIAGEBOT_DATA_DIR":       filepath.Join(dir, "data"),
		"TRIAGEBOT_PARTITIONS":     "4",
		// The killed process's in-flight events go to the next process after this long.
		"TRIAGEBOT_ACK_WAIT": "2s",
	})
	const repo = "octo-org/rocket"
	if _, err := fake.InstallApp("octo-org", repo); err != nil { // before a URL is set: not delivered
		t.Fatal(err)
	}

	first := startProc(t, dir, env, "serve")
	addr := first.waitLog("listening", msgIs("listening"))["addr"].(string)
	fake.SetWebhook("http://"+addr+"/webhook", testSecret)
	const issues = 12
	openIdeas(t, fake, repo, issues)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for _, d := range fake.Deliveries() {
		if d.Event == "issues" && d.StatusCode == http.StatusAccepted {
			accepted++
		}
	}
	if accepted != issues {
		t.Fatalf("%d of %d deliveries answered 202:\n%s", accepted, issues, first.output())
	}
	gate.waitHeld(t, "the workers to be mid-way", func(n int) bool { return n > 0 })
	if code, _ := first.stop(syscall.SIGKILL, 10*time.Second); code != -1 {
		t.Fatalf("exit %d, want killed", code)
	}
	gate.waitHeld(t, "the killed process's requests to end", func(n int) bool { return n == 0 })
	for _, r := range fake.Requests() {
		if r.Method != http.MethodGet && !strings.HasSuffix(r.Path, "/access_tokens") {
			t.Fatalf("a write reached GitHub before the crash: %s %s", r.Method, r.Path)
		}
	}
	gate.openUp()

	second := startProc(t, dir, env, "serve")
	addr = second.waitLog("listening", msgIs("listening"))["addr"].(string)
	fake.SetWebhook("http://"+addr+"/webhook", testSecret)
	done := issuesHandled(fake, repo, issues, 1)
	if err := fake.Wait(ctx, done); err != nil {
		t.Fatalf("not every delivery was handled after the restart: %v\n%s", err, second.output())
	}
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The bot's own label and comment events come back to it; wait until it has seen them all,
	// so that any duplicate it would post shows up.
	// Its label events are skipped; its comment events are read (to remember the comments as its
	// own) and act on nothing.
	second.waitCount("the bot's own label events skipped", msgIs("event skipped: caused by the bot itself"), issues)
	second.waitCount("the bot's own comment events read", func(m map[string]any) bool {
		return m["msg"] == "event handled" && m["event"] == "issue_comment" && m["actions"] == float64(0)
	}, issues)
	for i := 1; i <= issues; i++ {
		is, _ := fake.Issue(repo, i)
		if len(is.Labels) != 1 || is.Labels[0] != "needs-triage" || len(is.Comments) != 1 {
			t.Errorf("issue %d: labels %v, %d comments; want needs-triage and one welcome", i, is.Labels, len(is.Comments))
		}
	}
	checkLabelledOnce(t, fake, repo, issues)
	if t.Failed() {
		for _, line := range strings.Split(second.output(), "\n") {
			if strings.Contains(line, `"level":"warn"`) || strings.Contains(line, `"level":"error"`) {
				t.Log(line)
			}
		}
	}
	if code, _ := second.stop(syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
}

// gatedGitHub is an in-memory GitHub behind a writeGate (closed), a directory, and the settings
// that make a triagebot process the fake's App (its key written into the directory).
func gatedGitHub(t *testing.T) (fake *ghfake.Server, gate *writeGate, dir string, env map[string]string) {
	t.Helper()
	fake = ghfake.New(ghfake.WithPrefix("/api/v3/"))
	t.Cleanup(fake.Close)
	gate = newWriteGate(fake)
	gh := httptest.NewServer(gate)
	t.Cleanup(gh.Close)
	dir = t.TempDir()
	env, err := fake.BotEnv(dir, gh.URL)
	if err != nil {
		t.Fatal(err)
	}
	return fake, gate, dir, env
}

// checkLabelledOnce fails the test unless each of the repository's issues 1..issues had labels
// added exactly once.
func checkLabelledOnce(t *testing.T, fake *ghfake.Server, repo string, issues int) {
	t.Helper()
	labelPosts := map[string]int{}
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/labels") && r.Status < 300 {
			labelPosts[r.Path]++
		}
	}
	for i := 1; i <= issues; i++ {
		if path := fmt.Sprintf("/repos/%s/issues/%d/labels", repo, i); labelPosts[path] != 1 {
			t.Errorf("issue %d: labels added %d times, want exactly once", i, labelPosts[path])
		}
	}
}
