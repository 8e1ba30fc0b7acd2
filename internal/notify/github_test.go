package notify

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/internal/markdown/markdowntest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fakeCommenter records comments; fail, when set, decides an error per call (from 0).
type fakeCommenter struct {
	mu    sync.Mutex
	calls int
	posts []comment
	fail  func(i int, n Notification) error
}

type comment struct {
	Issue string
	Body  string
}

func (f *fakeCommenter) Comment(_ context.Context, n Notification, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.calls
	f.calls++
	if f.fail != nil {
		if err := f.fail(i, n); err != nil {
			return err
		}
	}
	f.posts = append(f.posts, comment{Issue: issueKey(n), Body: body})
	return nil
}

func (f *fakeCommenter) comments() []comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]comment(nil), f.posts...)
	sort.Slice(out, func(i, j int) bool { return out[i].Issue < out[j].Issue })
	return out
}

var _ Commenter = (*fakeCommenter)(nil)

func githubChannel() map[string]ChannelConfig {
	return map[string]ChannelConfig{"ops": {Name: "ops", Type: TypeGitHub, Digest: time.Hour,
		Mention: []string{"@octo/maintainers", "@alice"}}}
}

func TestGitHubOneCommentPerIssuePerDigest(t *testing.T) {
	fc := &fakeCommenter{}
	h := start(t, githubChannel(), WithCommenter(fc))
	a := note("a", "octo/repo", 1)
	b := note("b", "octo/repo", 1)
	b.Route, b.Event, b.Reason = "labeled", "labeled bug", "a notification route asks for labeled"
	b.Text = "@mallory labelled octo/repo#1 \"<img src=https://e.vil/p.gif>\": [x](https://e.vil)"
	c := note("c", "octo/repo", 2)
	h.enqueue(t, a, b, c)
	h.waitPending(t, "ops", 3)
	h.d.FlushNow()
	h.streamEmpty(t)

	got := fc.comments()
	if len(got) != 2 {
		t.Fatalf("%d comments, want one per issue (2): %+v", len(got), got)
	}
	var bodies strings.Builder
	for _, c := range got {
		if !strings.HasPrefix(c.Body, "@octo/maintainers @alice: ") {
			t.Errorf("comment on %s does not start with the mentions:\n%s", c.Issue, c.Body)
		}
		if strings.Contains(c.Body, "@mallory") || strings.Contains(c.Body, "@everyone") {
			t.Errorf("user text pings someone:\n%s", c.Body)
		}
		if tag := markdowntest.Hostile(markdowntest.HTML(t, c.Body)); tag != "" {
			t.Errorf("user text renders %s:\n%s", tag, c.Body)
		}
		bodies.WriteString("## " + c.Issue + "\n" + c.Body)
	}
	golden(t, "github-comments.golden", bodies.String())
}

func TestGitHubRetriesOnlyTheIssueThatFailed(t *testing.T) {
	fc := &fakeCommenter{fail: func(i int, n Notification) error {
		if n.Number == 2 && i < 2 {
			return errors.New("502 from GitHub")
		}
		return nil
	}}
	h := start(t, githubChannel(), WithCommenter(fc))
	h.enqueue(t, note("a", "octo/repo", 1), note("b", "octo/repo", 2))
	h.waitPending(t, "ops", 2)
	h.d.FlushNow()
	h.waitPending(t, "ops", 1) // only issue 2 comes back
	h.d.FlushNow()
	h.streamEmpty(t)
	var issues []string
	for _, c := range fc.comments() {
		issues = append(issues, c.Issue)
	}
	if diff := cmp.Diff([]string{"octo/repo#1", "octo/repo#2"}, issues); diff != "" {
		t.Errorf("comments (-want +got):\n%s", diff)
	}
}

type rateLimited struct{}

func (rateLimited) Error() string             { return "secondary rate limit" }
func (rateLimited) RetryAfter() time.Duration { return 90 * time.Second }

func TestGitHubHonoursTheCommentersRetryAfter(t *testing.T) {
	fc := &fakeCommenter{fail: func(int, Notification) error { return rateLimited{} }}
	h := start(t, githubChannel(), WithCommenter(fc))
	h.enqueue(t, note("a", "octo/repo", 1))
	h.waitPending(t, "ops", 1)
	h.d.FlushNow()
	if out := h.outs.next(t); out.Result != ResultRateLimited || out.Delay != 90*time.Second {
		t.Errorf("outcome %s after %s, want rate_limited after 90s", out.Result, out.Delay)
	}
}

func TestGitHubChannelNeedsACommenter(t *testing.T) {
	srv := start(t, nil).srv
	q, err := Setup(ctxT(t), srv.JS, Config{Channels: githubChannel()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewDispatcher(q); err == nil || !strings.Contains(err.Error(), "no Commenter") {
		t.Errorf("NewDispatcher without a Commenter: %v", err)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
