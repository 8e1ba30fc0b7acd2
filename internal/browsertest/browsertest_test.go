package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/triagebot/triagebot/internal/browsertest"
)

func TestBrowserClicksAndScreenshots(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><button id=b onclick="document.getElementById('o').textContent='clicked'">go</button><p id=o>idle</p>`)
	}))
	defer srv.Close()
	b := browsertest.Start(t, 60*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(srv.URL), chromedp.Click(chromedp.ID("b"))); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.ID("o")))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if got != "clicked" {
		t.Fatalf("text after click = %q, want clicked", got)
	}
	if len(png) == 0 {
		t.Fatal("empty screenshot")
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "shot.png"), png, 0o600); err != nil {
		t.Fatal(err)
	}
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Fatalf("console errors: %v", errs)
	}
}
