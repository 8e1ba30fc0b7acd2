// Package browsertest starts Debian's headless Chromium for browser tests through chromedp.
//
// Locally a test without a browser is skipped, saying so; under CI (CI=true) a missing browser
// is a failure, never a skip.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// candidates are where Debian and other systems put Chromium.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Path returns the browser's executable, or "" when there is none.
func Path() string {
	if p := os.Getenv("TRIAGEBOT_CHROMIUM"); p != "" {
		return p
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium, closed when the test ends.
//
// chromedp v0.23's API is generic: chromedp.Do(b.Ctx, chromedp.Navigate(u), chromedp.Click(chromedp.ID("b")))
// runs steps; v, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.ID("o"))) returns a value.
type Browser struct {
	Ctx context.Context // a tab's context: pass it to chromedp.Run
	// ConsoleErrors collects console errors and uncaught exceptions of the page.
	consoleErrors chan string
}

// Start starts Chromium with a new empty profile and no background networking (this
// workplace's network is closed). The returned context times out after timeout.
func Start(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Chromium found (apt-get install chromium); browser tests are required under CI")
		}
		t.Skip("no Chromium found (apt-get install chromium): skipping the browser test")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	b := &Browser{Ctx: ctx, consoleErrors: make(chan string, 64)}
	// Start the browser now so a broken install fails here, clearly, then listen to its console.
	if err := chromedp.Do(ctx); err != nil {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var msg strings.Builder
				for _, a := range ev.Args {
					msg.WriteString(string(a.Value))
					msg.WriteByte(' ')
				}
				select {
				case b.consoleErrors <- "console.error: " + msg.String():
				default:
				}
			}
		case *runtime.EventExceptionThrown:
			select {
			case b.consoleErrors <- "exception: " + ev.ExceptionDetails.Text + " " + exceptionText(ev.ExceptionDetails):
			default:
			}
		}
	}); err != nil {
		t.Fatalf("listen to Chromium's console: %v", err)
	}
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return b
}

// ConsoleErrors returns the console errors and exceptions seen so far.
func (b *Browser) ConsoleErrors() []string {
	var out []string
	for {
		select {
		case e := <-b.consoleErrors:
			out = append(out, e)
		default:
			return out
		}
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}
