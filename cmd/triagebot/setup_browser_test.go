package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/browsertest"
	"github.com/triagebot/triagebot/internal/ghapp"
)

// From nothing to a registered App handling a delivery: a browser opens setup's page, presses
// the button, confirms on (the emulated) GitHub and lands back; the files are written; serve
// starts with them alone and triages an issue whose webhook is signed with the new secret.
func TestSetupInABrowserThenServe(t *testing.T) {
	unsetSettings(t)
	fake, gh := fakeGitHub(t)
	// The public address GitHub is given: a reverse proxy to the bot, which starts later.
	var target atomic.Pointer[url.URL]
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		if u := target.Load(); u != nil {
			r.SetURL(u)
		}
	}})
	defer proxy.Close()
	dir := t.TempDir()
	t.Setenv("TRIAGEBOT_GITHUB_URL", gh.URL+"/api/v3/")
	t.Setenv("TRIAGEBOT_DATA_DIR", filepath.Join(dir, "data"))

	b := browsertest.Start(t, 90*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r := startSetup(t, ctx, "--webhook-url", proxy.URL+"/webhook", "--org", "octo-org", "--name", "octo triage", "--no-browser")
	if err := chromedp.Do(b.Ctx,
		chromedp.Navigate(r.page),
		chromedp.Click(chromedp.ID("register")),
		chromedp.WaitVisible(chromedp.ID("create")), // GitHub's page: confirm the name
		chromedp.Click(chromedp.ID("create")),
		chromedp.WaitVisible(chromedp.ID("result")), // back on setup's page
	); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.ID("result")))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Registered octo triage" {
		t.Fatalf("result page says %q", title)
	}
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
	if code, out, errOut := r.wait(t); code != 0 {
		t.Fatalf("setup exit %d: %s\n%s", code, out, errOut)
	}

	// serve reads only the env file setup wrote (and an address to listen on).
	env, err := os.ReadFile(filepath.Join(dir, "data", "github-app", "app.env"))
	if err != nil {
		t.Fatal(err)
	}
	unsetSettings(t)
	for _, line := range strings.Split(string(env), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			t.Setenv(k, v)
		}
	}
	t.Setenv("TRIAGEBOT_LISTEN", "127.0.0.1:0")
	t.Setenv("TRIAGEBOT_ADMIN_LISTEN", "off") // its fixed default port may be another process's
	c := parsed(t, "serve").(*serveCmd)
	s := c.settings
	if err := checkSettings(nil, s.groups()...); err != nil {
		t.Fatal(err)
	}
	s.ShutdownTimeout = 5 * time.Second
	// The bot login is given, as in every end-to-end test (no GET /app round trip).
	a, err := start(ctx, "serve", s, zap.NewNop(), startOptions{ghapp: []ghapp.Option{ghapp.WithBotLogin(fake.BotLogin())}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := a.shutdown(); err != nil {
			t.Error(err)
		}
	}()
	target.Store(&url.URL{Scheme: "http", Host: a.addr})

	if _, err := fake.InstallApp("octo-org", "octo-org/rocket"); err != nil {
		t.Fatal(err)
	}
	n, err := fake.OpenIssue("octo-org/rocket", "alice", "It crashes", "on start")
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Wait(ctx, func() bool {
		is, ok := fake.Issue("octo-org/rocket", n)
		return ok && slices.Contains(is.Labels, "needs-triage")
	}); err != nil {
		t.Fatalf("the issue was not triaged: %v; deliveries %+v", err, fake.Deliveries())
	}
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range fake.Deliveries() {
		if d.StatusCode != http.StatusAccepted {
			t.Errorf("delivery %s %s answered %d", d.Event, d.GUID, d.StatusCode)
		}
	}
}
