package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/triagebot/triagebot/internal/browsertest"
	"github.com/triagebot/triagebot/queue"
)

func TestStatusPageInABrowser(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	const repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	if err := l.Fake.SetPermission(repo, "maya", "maintain"); err != nil {
		t.Fatal(err)
	}
	n, err := l.Fake.OpenIssue(repo, "alice", "Support SSO login", "Please.")
	if err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	// A maintainer's label: its name comes back on the page in the action's reason.
	const hostile = "<script>alert(1)</script>"
	if err := l.Fake.AddLabel(repo, n, "maya", hostile); err != nil {
		t.Fatal(err)
	}
	// A dead letter: an issues payload go-github cannot decode (a title that is a number).
	body := fmt.Sprintf(`{"action":"opened","repository":{"id":1,"full_name":%q},"issue":{"number":77,"title":12}}`, repo)
	if _, err := l.App.q.Publish(context.Background(), queue.Delivery{ID: "broken-1", Event: "issues", InstallationID: 1, RepoID: 1, Number: 77, Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	waitFor(t, "the dead letter", func() bool {
		n, _, err := l.App.q.LatestDeadLetters(context.Background(), 1)
		return err == nil && n == 1
	})

	b := browsertest.Start(t, 60*time.Second)
	base := "http://" + l.App.admin.addr + "/"
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(base), chromedp.WaitVisible(chromedp.ID("action-list"))); err != nil {
		t.Fatal(err)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	if got := text("#ready"); got != "Ready" {
		t.Errorf("ready: %q", got)
	}
	if got := text("#nats-status"); got != "CONNECTED" {
		t.Errorf("NATS: %q", got)
	}
	if got := text("#dlq-count"); got != "1" {
		t.Errorf("dead letters: %q, want 1", got)
	}
	dlq := text("#dlq")
	for _, want := range []string{"broken-1", repo + "#77", "triagebot dlq retry", "decode issues payload"} {
		if !strings.Contains(dlq, want) {
			t.Errorf("dead letters table lacks %q:\n%s", want, dlq)
		}
	}
	actions := text("#action-list")
	for _, want := range []string{"needs-triage", `@maya labelled the issue "` + hostile + `"`} {
		if !strings.Contains(actions, want) {
			t.Errorf("actions lack %q:\n%s", want, actions)
		}
	}
	hrefs, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#action-list a')).map(a => a.getAttribute('href'))`))
	if err != nil {
		t.Fatal(err)
	}
	issueURL := fmt.Sprintf("%s/%s/issues/%d", l.fakeSrv.URL, repo, n)
	if !slices.Contains(hrefs, issueURL) {
		t.Errorf("no action links to %s: %q", issueURL, hrefs)
	}
	scripts, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll('script').length`))
	if err != nil || scripts != 0 {
		t.Errorf("%d script elements on the page (err %v): a label's name was not escaped", scripts, err)
	}
	if got := text("#gh-rpm"); got == "0" {
		t.Errorf("GitHub requests in the last minute: %s", got)
	}
	if got := text("#handled"); got == "0" {
		t.Errorf("handled in the last minute: %s", got)
	}
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.ArtifactDir(), "statuspage.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	// The repository filter: another repository has no actions; any case finds this one's.
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(base+"?repo=octo-org/other"), chromedp.WaitVisible(chromedp.ID("action-list"))); err != nil {
		t.Fatal(err)
	}
	if got := text("#action-list"); !strings.Contains(got, "No actions of octo-org/other") {
		t.Errorf("filtered to another repository:\n%s", got)
	}
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(base+"?repo=OCTO-ORG/Rocket"), chromedp.WaitVisible(chromedp.ID("action-list"))); err != nil {
		t.Fatal(err)
	}
	if got := text("#action-list"); !strings.Contains(got, "needs-triage") {
		t.Errorf("filtered to %s in another case:\n%s", repo, got)
	}
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
