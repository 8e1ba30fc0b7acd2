package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kong"
	"github.com/google/go-github/v60/github"

	"github.com/triagebot/triagebot/deploy"
)

// setupCmd registers the GitHub App from deploy/github-app-manifest.json through GitHub's
// manifest flow, and writes what the bot needs to run as it.
type setupCmd struct {
	WebhookURL string `name:"webhook-url" required:"" placeholder:"URL" help:"The address GitHub sends webhooks to: the public https URL of /webhook (your host or reverse proxy, or a smee.io channel while trying)."`
	Org        string `placeholder:"ORG" help:"Register the App for this organisation (default: for your user account)."`
	Name       string `default:"triagebot" help:"The App's name (unique on GitHub; it can be changed on GitHub's page)."`
	Listen     string `default:"127.0.0.1:0" placeholder:"ADDR" help:"Loopback address of the local page (port 0: any free port)."`
	NoBrowser  bool   `help:"Only print the page's address; do not open a browser."`
	Force      bool   `help:"Replace an App already registered in the data directory."`
	githubURLSettings
	dataDirSettings
}

func (c *setupCmd) Help() string {
	return "Serves a local page with one button that registers the GitHub App from its manifest (permissions, events, webhook URL filled in) for your account, an organisation, or on GitHub Enterprise Server. When GitHub redirects back, it writes the App's ID, private key and webhook secret under the data directory (readable by you only) and prints the two steps left: installing the App, and the serve command."
}

// appFiles are the files setup writes, under DATA_DIR/github-app.
type appFiles struct{ dir string }

func (f appFiles) path(name string) string { return filepath.Join(f.dir, name) }

const (
	fileAppID  = "app-id"
	fileKey    = "private-key.pem"
	fileSecret = "webhook-secret"
	fileEnv    = "app.env"
	fileApp    = "app.json"
)

func (c *setupCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	if err := checkSettings(kctx, &c.githubURLSettings); err != nil {
		return err
	}
	hook, err := url.Parse(c.WebhookURL)
	if err != nil || (hook.Scheme != "https" && hook.Scheme != "http") || hook.Host == "" {
		return withExit(2, fmt.Errorf("--webhook-url: %q is not an http(s) URL", c.WebhookURL))
	}
	web, err := webURL(c.GitHubURL)
	if err != nil {
		return withExit(2, fmt.Errorf("TRIAGEBOT_GITHUB_URL: %w", err))
	}
	dir, err := filepath.Abs(filepath.Join(c.DataDir, "github-app"))
	if err != nil {
		return withExit(2, fmt.Errorf("TRIAGEBOT_DATA_DIR: %w", err))
	}
	files := appFiles{dir: dir}
	if id, err := os.ReadFile(files.path(fileAppID)); err == nil && !c.Force {
		return withExit(1, fmt.Errorf("setup: an App (ID %s) is already registered in %s; --force replaces it", strings.TrimSpace(string(id)), dir))
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return withExit(2, fmt.Errorf("--listen: %q is not a loopback address such as 127.0.0.1:8765 (the page hands out the App's secrets)", c.Listen))
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return withExit(2, fmt.Errorf("--listen %s: %w (choose another port)", c.Listen, err))
	}
	page := "http://" + ln.Addr().String() + "/"
	f := &setupFlow{cmd: c, web: web, page: page, files: files, done: make(chan setupResult, 1)}
	if f.state, err = randomHex(16); err != nil {
		ln.Close()
		return err
	}
	if f.manifest, err = fillManifest(deploy.AppManifest, c.Name, c.WebhookURL, page+"callback"); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: f.routes(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		<-served
	}()

	fmt.Fprintf(o.stdout, "Open %s and press the button to register the GitHub App %q for %s on %s.\n", page, c.Name, c.owner(), web)
	if !c.NoBrowser {
		if err := openBrowser(ctx, page); err != nil {
			fmt.Fprintf(o.stdout, "No browser to open (%v): open %s by hand.\n", err, page)
		}
	}
	var r setupResult
	select {
	case r = <-f.done:
	case <-ctx.Done():
		// A redirect handled just before the stop still tells its outcome.
		select {
		case r = <-f.done:
		default:
			return withExit(1, errors.New("setup: stopped before GitHub redirected back; nothing was written"))
		}
	}
	if r.err != nil {
		return withExit(1, fmt.Errorf("setup: %w", r.err))
	}
	printNextSteps(o.stdout, r, c, files)
	return nil
}

// webURL is GitHub's web address for its REST base URL: https://api.github.com/ and
// https://api.SUBDOMAIN.ghe.com/ drop the "api.", GitHub Enterprise Server's
// https://HOST/api/v3/ drops the path.
func webURL(api string) (string, error) {
	u, err := url.Parse(api)
	if err != nil {
		return "", err
	}
	switch {
	case strings.HasSuffix(u.Path, "/api/v3/") || u.Path == "/api/v3":
		u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v3") + "/"
	case strings.HasPrefix(u.Host, "api.") && (u.Path == "/" || u.Path == ""):
		u.Host, u.Path = strings.TrimPrefix(u.Host, "api."), "/"
	default:
		return "", fmt.Errorf("%s is neither https://api.github.com/ nor https://HOST/api/v3/: cannot tell where GitHub's web pages are", api)
	}
	return u.String(), nil
}

// fillManifest sets the App's name, webhook URL and redirect URL in the manifest.
func fillManifest(raw []byte, name, hook, redirect string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", fmt.Errorf("deploy/github-app-manifest.json: %w", err)
	}
	m["name"] = name
	m["hook_attributes"] = map[string]any{"url": hook, "active": true}
	m["redirect_url"] = redirect
	b, err := json.Marshal(m)
	return string(b), err
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// setupFlow is the local page and its callback.
type setupFlow struct {
	cmd      *setupCmd
	web      string // GitHub's web address, with a trailing slash
	page     string
	state    string
	manifest string
	files    appFiles
	once     sync.Once
	done     chan setupResult
}

type setupResult struct {
	app *github.AppConfig
	err error
}

var setupPage = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Register triagebot</title></head><body>
<h1>Register the GitHub App {{.Name}}</h1>
<p>For {{.For}} on <code>{{.Web}}</code>, with webhooks sent to <code>{{.Hook}}</code>.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit" id="register">Register on GitHub</button>
</form></body></html>
`))

var resultPage = template.Must(template.New("result").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>triagebot setup</title></head><body>
<h1 id="result">{{.Title}}</h1><p id="detail">{{.Detail}}</p>
{{if .Install}}<p><a id="install" href="{{.Install}}">Install the App on your repositories</a></p>{{end}}
</body></html>
`))

func (f *setupFlow) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", f.servePage)
	mux.HandleFunc("GET /callback", f.callback)
	return mux
}

// action is GitHub's "create an App from a manifest" form, for a user or an organisation.
func (f *setupFlow) action() string {
	path := "settings/apps/new"
	if f.cmd.Org != "" {
		path = "organizations/" + url.PathEscape(f.cmd.Org) + "/settings/apps/new"
	}
	return f.web + path + "?state=" + url.QueryEscape(f.state)
}

// owner says whose App it will be.
func (c *setupCmd) owner() string {
	if c.Org != "" {
		return "the organisation " + c.Org
	}
	return "your user account"
}

func (f *setupFlow) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = setupPage.Execute(w, map[string]string{"Name": f.cmd.Name, "For": f.cmd.owner(), "Web": f.web, "Hook": f.cmd.WebhookURL,
		"Action": f.action(), "Manifest": f.manifest})
}

// callback is GitHub's redirect: check the state, exchange the code, write the files.
func (f *setupFlow) callback(w http.ResponseWriter, r *http.Request) {
	show := func(status int, title, detail, install string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_ = resultPage.Execute(w, map[string]string{"Title": title, "Detail": detail, "Install": install})
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		err := errors.New("the redirect's state does not match this setup's page (a stale page, or a redirect this setup did not start); nothing was written: run setup again")
		f.finish(setupResult{err: err})
		show(http.StatusBadRequest, "State mismatch", err.Error(), "")
		return
	}
	code := q.Get("code")
	if code == "" {
		err := errors.New("GitHub redirected back without a code (was the registration cancelled?); nothing was written: run setup again")
		f.finish(setupResult{err: err})
		show(http.StatusBadRequest, "No code", err.Error(), "")
		return
	}
	var res setupResult
	first := false
	f.once.Do(func() {
		first = true
		res.app, res.err = f.exchange(r.Context(), code)
		if res.err == nil {
			res.err = f.write(res.app)
		}
		f.done <- res
	})
	switch {
	case !first:
		show(http.StatusConflict, "Already done", "This setup has finished; see its terminal.", "")
	case res.err != nil:
		show(http.StatusBadGateway, "Registration failed", res.err.Error(), "")
	default:
		show(http.StatusOK, "Registered "+res.app.GetName(), "App ID "+strconv.FormatInt(res.app.GetID(), 10)+
			": its key and webhook secret are in "+f.files.dir+". Next, install it; the terminal shows how to start the bot.", installURL(res.app))
	}
}

func (f *setupFlow) finish(r setupResult) {
	f.once.Do(func() { f.done <- r })
}

// exchange trades the one-time code for the App's configuration.
func (f *setupFlow) exchange(ctx context.Context, code string) (*github.AppConfig, error) {
	base, err := url.Parse(f.cmd.GitHubURL)
	if err != nil {
		return nil, err
	}
	gh := github.NewClient(&http.Client{Timeout: 30 * time.Second})
	gh.BaseURL = base
	app, resp, err := gh.Apps.CompleteAppManifest(ctx, code)
	if resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnprocessableEntity) {
		return nil, fmt.Errorf("GitHub refused the code (%s): it was already used or is over an hour old (a code works once, within an hour); nothing was written: run setup again", resp.Status)
	}
	if err != nil {
		return nil, fmt.Errorf("exchange the code at %s: %w", f.cmd.GitHubURL, err)
	}
	if app.GetID() == 0 || app.GetPEM() == "" || app.GetWebhookSecret() == "" {
		return nil, errors.New("GitHub's answer lacks the App's id, key or webhook secret; nothing was written")
	}
	return app, nil
}

// write puts the App's files in place, readable by the user only.
func (f *setupFlow) write(app *github.AppConfig) error {
	if err := os.MkdirAll(f.files.dir, 0o700); err != nil {
		return err
	}
	env := fmt.Sprintf("# The GitHub App %q (ID %d, %s), registered by 'triagebot setup' on %s.\n"+
		"# Start the bot with: set -a; . %s; set +a; triagebot serve\n"+
		"TRIAGEBOT_APP_ID=%d\nTRIAGEBOT_PRIVATE_KEY_FILE=%s\nTRIAGEBOT_WEBHOOK_SECRET_FILE=%s\nTRIAGEBOT_GITHUB_URL=%s\nTRIAGEBOT_DATA_DIR=%s\n",
		app.GetName(), app.GetID(), app.GetHTMLURL(), time.Now().UTC().Format(time.RFC3339), f.files.path(fileEnv),
		app.GetID(), f.files.path(fileKey), f.files.path(fileSecret), f.cmd.GitHubURL, filepath.Dir(f.files.dir))
	meta, err := json.MarshalIndent(map[string]any{"id": app.GetID(), "slug": app.GetSlug(), "name": app.GetName(),
		"owner": app.GetOwner().GetLogin(), "html_url": app.GetHTMLURL(), "client_id": app.GetClientID(),
		"webhook_url": f.cmd.WebhookURL, "github_url": f.cmd.GitHubURL}, "", "  ")
	if err != nil {
		return err
	}
	for _, file := range []struct{ name, data string }{
		{fileKey, app.GetPEM()}, {fileSecret, app.GetWebhookSecret() + "\n"}, {fileApp, string(meta) + "\n"},
		{fileEnv, env}, {fileAppID, strconv.FormatInt(app.GetID(), 10) + "\n"}, // app-id last: it marks a complete set
	} {
		if err := writePrivate(f.files.path(file.name), []byte(file.data), f.cmd.Force); err != nil {
			return err
		}
	}
	return nil
}

// writePrivate writes a file only its owner can read; without force it never replaces one.
func writePrivate(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists (from an earlier setup?); --force replaces it", path)
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func installURL(app *github.AppConfig) string {
	return strings.TrimSuffix(app.GetHTMLURL(), "/") + "/installations/new"
}

func printNextSteps(w io.Writer, r setupResult, c *setupCmd, files appFiles) {
	fmt.Fprintf(w, "Registered the GitHub App %q (ID %d) for %s.\n", r.app.GetName(), r.app.GetID(), r.app.GetOwner().GetLogin())
	fmt.Fprintf(w, "Wrote %s: %s, %s, %s, %s, %s (readable by you only).\n\n", files.dir, fileAppID, fileKey, fileSecret, fileEnv, fileApp)
	fmt.Fprintf(w, "Two steps left:\n  1. Install the App on the repositories it should triage:\n       %s\n", installURL(r.app))
	fmt.Fprintf(w, "  2. Start the bot as this App (GitHub sends webhooks to %s):\n       set -a; . %s; set +a; triagebot serve\n",
		c.WebhookURL, shellQuote(files.path(fileEnv)))
}

// shellQuote quotes a path for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// openBrowser asks the desktop to open url.
func openBrowser(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", url)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no DISPLAY or WAYLAND_DISPLAY")
		}
		cmd = exec.CommandContext(ctx, "xdg-open", url)
	}
	// The opener hands the page to the browser and exits; one still running after the timeout
	// has done so too.
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
