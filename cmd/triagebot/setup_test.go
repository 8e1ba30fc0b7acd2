package main

import (
	"bufio"
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/deploy"
	"github.com/triagebot/triagebot/internal/ghfake"
)

// fakeGitHub is ghfake laid out as GitHub Enterprise Server: web pages at the root, the REST
// API under /api/v3/.
func fakeGitHub(t *testing.T, opts ...ghfake.Option) (*ghfake.Server, *httptest.Server) {
	t.Helper()
	fake := ghfake.New(append([]ghfake.Option{ghfake.WithPrefix("/api/v3/")}, opts...)...)
	mux := http.NewServeMux()
	mux.Handle("/api/v3/", fake)
	mux.Handle("/", fake.Web())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); fake.Close() })
	return fake, srv
}

// setupRun is 'triagebot setup' running in the background.
type setupRun struct {
	page string // the local page's URL
	done chan struct{}
	mu   sync.Mutex
	out  strings.Builder
	err  strings.Builder
	code int
}

func (r *setupRun) wait(t *testing.T) (int, string, string) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		t.Fatal("setup did not finish")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code, r.out.String(), r.err.String()
}

// startSetup runs setup and waits until it prints its page's address.
func startSetup(t *testing.T, ctx context.Context, args ...string) *setupRun {
	t.Helper()
	pr, pw := io.Pipe()
	r := &setupRun{done: make(chan struct{})}
	errW := &lockedWriter{mu: &r.mu, b: &r.err}
	go func() {
		defer close(r.done)
		err := run(ctx, append([]string{"setup"}, args...), pw, errW)
		code := exitCode(err, errW)
		pw.Close()
		r.mu.Lock()
		r.code = code
		r.mu.Unlock()
	}()
	pageRE := regexp.MustCompile(`^Open (http://\S+/) and press`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := pageRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
			r.mu.Lock()
			r.out.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
		}
		close(found)
	}()
	select {
	case p, ok := <-found:
		if ok {
			r.page = p
		}
	case <-time.After(30 * time.Second):
		t.Fatal("setup printed no page")
	}
	return r
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	hiddenVal  = regexp.MustCompile(`<input type="(?:hidden|text)"(?: id="\w+")? name="(\w+)" value="([^"]*)">`)
)

// submit posts the first form of an HTML page, as a browser would, with fields overriding its
// hidden inputs, and answers the response of the last request (redirects followed or not).
func submit(t *testing.T, client *http.Client, base, page string, fields url.Values) *http.Response {
	t.Helper()
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in %s", page)
	}
	action, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := url.Parse(base)
	form := url.Values{}
	for _, h := range hiddenVal.FindAllStringSubmatch(page, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	for k, v := range fields {
		form[k] = v
	}
	resp, err := client.PostForm(b.ResolveReference(action).String(), form)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// throughGitHub opens the local page, presses its button, confirms on GitHub's page and
// answers GitHub's redirect (followed, unless follow is false).
func throughGitHub(t *testing.T, page string, follow bool) *http.Response {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	local := body(t, resp)
	resp = submit(t, client, page, local, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GitHub's form: %d %s", resp.StatusCode, body(t, resp))
	}
	confirm := body(t, resp)
	if !follow {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return submit(t, client, resp.Request.URL.String(), confirm, nil)
}

func TestSetupRegistersTheApp(t *testing.T) {
	fake, gh := fakeGitHub(t)
	dir := t.TempDir()
	t.Setenv("TRIAGEBOT_GITHUB_URL", gh.URL+"/api/v3/")
	t.Setenv("TRIAGEBOT_DATA_DIR", filepath.Join(dir, "data"))
	ctx := context.Background()
	r := startSetup(t, ctx, "--webhook-url", "https://bot.example.org/webhook", "--org", "octo-org", "--no-browser")
	resp := throughGitHub(t, r.page, true)
	if got := body(t, resp); resp.StatusCode != 200 || !strings.Contains(got, `<h1 id="result">Registered triagebot</h1>`) {
		t.Fatalf("result page %d: %s", resp.StatusCode, got)
	}
	code, out, errOut := r.wait(t)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	appDir := filepath.Join(dir, "data", "github-app")
	for _, name := range []string{"app-id", "private-key.pem", "webhook-secret", "app.env", "app.json"} {
		st, err := os.Stat(filepath.Join(appDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(appDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	_, secret := fake.Webhook()
	if read("private-key.pem") != string(fake.PrivateKeyPEM()) || read("webhook-secret") != secret+"\n" || read("app-id") != "1\n" {
		t.Errorf("files do not hold the App's key, secret and id")
	}
	wantEnv := []string{"TRIAGEBOT_APP_ID=1", "TRIAGEBOT_PRIVATE_KEY_FILE=" + filepath.Join(appDir, "private-key.pem"),
		"TRIAGEBOT_WEBHOOK_SECRET_FILE=" + filepath.Join(appDir, "webhook-secret"), "TRIAGEBOT_GITHUB_URL=" + gh.URL + "/api/v3/",
		"TRIAGEBOT_DATA_DIR=" + filepath.Join(dir, "data")}
	var gotEnv []string
	for _, l := range strings.Split(read("app.env"), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			gotEnv = append(gotEnv, l)
		}
	}
	if diff := cmp.Diff(wantEnv, gotEnv); diff != "" {
		t.Errorf("app.env (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		"Registered the GitHub App \"triagebot\" (ID 1) for octo-org.",
		gh.URL + "/apps/triagebot/installations/new",
		"set -a; . " + filepath.Join(appDir, "app.env") + "; set +a; triagebot serve",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// What GitHub was given: the deploy manifest with the webhook and redirect filled in.
	regs := fake.RegisteredApps()
	if len(regs) != 1 || regs[0].Owner != "octo-org" {
		t.Fatalf("registrations %+v", regs)
	}
	var got, want map[string]any
	if err := json.Unmarshal(regs[0].Manifest, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(deploy.AppManifest, &want); err != nil {
		t.Fatal(err)
	}
	want["name"] = "triagebot"
	want["hook_attributes"] = map[string]any{"url": "https://bot.example.org/webhook", "active": true}
	want["redirect_url"] = r.page + "callback"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
}

// Each way setup can fail is one line, and writes nothing.
func TestSetupErrors(t *testing.T) {
	_, gh := fakeGitHub(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	hook := []string{"--webhook-url", "https://bot.example.org/webhook"}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		before   func(t *testing.T, dataDir string)
		drive    func(t *testing.T, r *setupRun)
		wantCode int
		want     string
	}{
		{name: "state mismatch", args: hook, wantCode: 1, drive: func(t *testing.T, r *setupRun) {
			resp, err := http.Get(r.page + "callback?code=abc&state=forged")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 400 || !strings.Contains(body(t, resp), "State mismatch") {
				t.Errorf("callback answered %d", resp.StatusCode)
			}
		}, want: "triagebot: setup: the redirect's state does not match this setup's page (a stale page, or a redirect this setup did not start); nothing was written: run setup again\n"},
		{name: "code used twice", args: hook, wantCode: 1, drive: func(t *testing.T, r *setupRun) {
			resp := throughGitHub(t, r.page, false)
			loc, err := resp.Location()
			if err != nil {
				t.Fatal(err)
			}
			// Someone else exchanged it first.
			conv, err := http.Post(gh.URL+"/api/v3/app-manifests/"+loc.Query().Get("code")+"/conversions", "application/json", nil)
			if err != nil || conv.StatusCode != 201 {
				t.Fatalf("first exchange: %v %v", conv, err)
			}
			conv.Body.Close()
			if resp, err = http.Get(loc.String()); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}, want: "triagebot: setup: GitHub refused the code (404 Not Found): it was already used or is over an hour old (a code works once, within an hour); nothing was written: run setup again\n"},
		{name: "port busy", args: append([]string{"--listen", busy.Addr().String()}, hook...), wantCode: 2,
			want: "triagebot: --listen " + busy.Addr().String() + ": address already in use (choose another port)\n"},
		{name: "not loopback", args: append([]string{"--listen", "0.0.0.0:0"}, hook...), wantCode: 2,
			want: "triagebot: --listen: \"0.0.0.0:0\" is not a loopback address such as 127.0.0.1:8765 (the page hands out the App's secrets)\n"},
		{name: "no webhook url", wantCode: 2, want: "triagebot: missing flags: --webhook-url=URL (see 'triagebot setup --help')\n"},
		{name: "webhook url not a url", args: []string{"--webhook-url", "bot.example.org"}, wantCode: 2,
			want: "triagebot: --webhook-url: \"bot.example.org\" is not an http(s) URL\n"},
		{name: "github url without a web page", args: hook, env: map[string]string{"TRIAGEBOT_GITHUB_URL": "https://git.example.org/rest/"}, wantCode: 2,
			want: "triagebot: TRIAGEBOT_GITHUB_URL: https://git.example.org/rest/ is neither https://api.github.com/ nor https://HOST/api/v3/: cannot tell where GitHub's web pages are\n"},
		{name: "an App already there", args: hook, wantCode: 1, before: func(t *testing.T, dataDir string) {
			if err := os.MkdirAll(filepath.Join(dataDir, "github-app"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dataDir, "github-app", "app-id"), []byte("77\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: "--force replaces it\n"},
		{name: "no browser", args: hook, env: map[string]string{"DISPLAY": "", "WAYLAND_DISPLAY": ""}, wantCode: 1, drive: func(t *testing.T, r *setupRun) {
			want := "No browser to open (no DISPLAY or WAYLAND_DISPLAY): open " + r.page + " by hand.\n"
			waitFor(t, "the no-browser hint "+want, func() bool {
				r.mu.Lock()
				defer r.mu.Unlock()
				return strings.Contains(r.out.String(), want)
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unsetSettings(t)
			dataDir := filepath.Join(t.TempDir(), "data")
			t.Setenv("TRIAGEBOT_DATA_DIR", dataDir)
			t.Setenv("TRIAGEBOT_GITHUB_URL", gh.URL+"/api/v3/")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.before != nil {
				tt.before(t, dataDir)
			}
			if tt.drive == nil {
				code, out, errOut := runCmd(t, append([]string{"setup"}, tt.args...)...)
				if code != tt.wantCode || !strings.HasSuffix(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
					t.Fatalf("exit %d, stderr %q, stdout %q; want exit %d and %q", code, errOut, out, tt.wantCode, tt.want)
				}
				return
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := startSetup(t, ctx, tt.args...)
			tt.drive(t, r)
			cancel() // ends a setup still waiting
			code, _, errOut := r.wait(t)
			if tt.want == "" {
				tt.want = "triagebot: setup: stopped before GitHub redirected back; nothing was written\n"
			}
			if code != tt.wantCode || errOut != tt.want {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.wantCode, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dataDir, "github-app", "app-id")); err == nil {
				t.Fatal("an App was written")
			}
		})
	}
}

func TestWebURL(t *testing.T) {
	tests := []struct{ give, want string }{
		{"https://api.github.com/", "https://github.com/"},
		{"https://api.octocorp.ghe.com/", "https://octocorp.ghe.com/"},
		{"https://ghe.example.org/api/v3/", "https://ghe.example.org/"},
		{"http://127.0.0.1:8080/api/v3/", "http://127.0.0.1:8080/"},
	}
	for _, tt := range tests {
		if got, err := webURL(tt.give); err != nil || got != tt.want {
			t.Errorf("webURL(%q) = %q, %v; want %q", tt.give, got, err, tt.want)
		}
	}
}
