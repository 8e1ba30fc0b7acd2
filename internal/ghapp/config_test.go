package ghapp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triagebot/triagebot/rules"

	"github.com/triagebot/triagebot/queue"
)

// startKV starts an embedded JetStream server in t.TempDir() and returns a fresh bucket.
func startKV(t testing.TB) jetstream.KeyValue {
	t.Helper()
	srv := startJS(t)
	nc, err := nats.Connect(srv.ClientURL(), nats.InProcessServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: "triagebot-config", History: 1})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// files serves repository contents with ETags and 304s.
type files struct {
	mu    sync.Mutex
	files map[string]string // "owner/repo/path" → content
	fail  map[string]int    // "owner/repo" → status to answer instead
	raw   map[string]string // "owner/repo" → "STATUS JSON" to answer instead
	// profile is the community profile's code_of_conduct_file.html_url of o/r; empty: 404
	profile string
}

func (f *files) set(key, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if content == "" {
		delete(f.files, key)
		return
	}
	f.files[key] = content
}

func (f *files) register(g *ghServer) {
	// A repository exists when it is the event's (o/r) or has a file.
	g.handle("GET /repos/{owner}/{repo}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		repo := r.PathValue("owner") + "/" + r.PathValue("repo")
		exists := repo == "o/r"
		for k := range f.files {
			exists = exists || strings.HasPrefix(k, repo+"/")
		}
		if !exists {
			writeJSON(w, 404, map[string]any{"message": "Not Found"})
			return
		}
		writeConditional(w, r, map[string]any{"full_name": repo})
	})
	g.handle("GET /repos/{owner}/{repo}/community/profile", func(w http.ResponseWriter, r *http.Request) {
		if f.profile == "" || r.PathValue("repo") != "r" {
			writeJSON(w, 404, map[string]any{"message": "Not Found"})
			return
		}
		writeConditional(w, r, map[string]any{"files": map[string]any{"code_of_conduct_file": map[string]any{"html_url": f.profile}}})
	})
	g.handle("GET /repos/{owner}/{repo}/contents/{path...}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		repo := r.PathValue("owner") + "/" + r.PathValue("repo")
		if status := f.fail[repo]; status != 0 {
			writeJSON(w, status, map[string]any{"message": http.StatusText(status)})
			return
		}
		if raw, ok := f.raw[repo]; ok {
			status, body, _ := strings.Cut(raw, " ")
			w.Header().Set("ETag", `W/"`+fakeETag(raw)+`"`)
			w.WriteHeader(map[string]int{"200": 200, "403": 403}[status])
			fmt.Fprint(w, body)
			return
		}
		path := strings.Trim(r.PathValue("path"), "/")
		content, ok := f.files[repo+"/"+path]
		if !ok {
			f.list(w, r, repo, path)
			return
		}
		etag := `W/"` + fakeETag(content) + `"`
		if r.Header.Get("If-None-Match") == etag {
			w.Header().Set("ETag", etag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		writeJSON(w, 200, map[string]any{"type": "file", "encoding": "base64", "path": path,
			"content":  base64.StdEncoding.EncodeToString([]byte(content)),
			"html_url": "https://github.example/" + repo + "/blob/main/" + path})
	})
}

// list answers a directory listing: the files right under dir.
func (f *files) list(w http.ResponseWriter, r *http.Request, repo, dir string) {
	prefix := repo + "/"
	if dir != "" {
		prefix += dir + "/"
	}
	var out []map[string]any
	for k := range f.files {
		if name, ok := strings.CutPrefix(k, prefix); ok && !strings.Contains(name, "/") {
			out = append(out, map[string]any{"type": "file", "name": name,
				"html_url": "https://github.example/" + repo + "/blob/main/" + strings.TrimPrefix(k, repo+"/")})
		}
	}
	if out == nil {
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
		return
	}
	writeConditional(w, r, out)
}

// writeConditional answers v with an ETag, or 304 when the request already has it.
func writeConditional(w http.ResponseWriter, r *http.Request, v any) {
	b, _ := json.Marshal(v)
	etag := `W/"` + fakeETag(string(b)) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(200)
	_, _ = w.Write(b)
}

func newLoader(t testing.TB, g *ghServer, opts ...ConfigOption) (*ConfigLoader, *fakeClock) {
	t.Helper()
	a, clock := newTestApp(t, g)
	l, err := NewConfigLoader(a, startKV(t), rules.DefaultConfig(), append([]ConfigOption{WithConfigClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return l, clock
}

func TestConfigLayersAndCache(t *testing.T) {
	g := newGHServer(t)
	f := &files{files: map[string]string{
		"O/.github/.github/triagebot.yml": "priority:\n  enabled: false\nneeds_triage:\n  label: org-triage\n",
		"O/r.x/.github/triagebot.yml":     "needs_triage:\n  label: triage-me\n",
	}}
	f.register(g)
	l, clock := newLoader(t, g)
	ctx := context.Background()

	want := rules.DefaultConfig()
	want.Priority.Enabled = false
	want.NeedsTriage.Label = "triage-me"
	check := func(step string, wantRequests []string) {
		t.Helper()
		g.reset()
		got, err := l.Load(ctx, 5, "O", "r.x")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got.ParseErr != nil {
			t.Errorf("%s: ParseErr %v", step, got.ParseErr)
		}
		if diff := cmp.Diff(want, got.Config); diff != "" {
			t.Errorf("%s: config (-want +got):\n%s", step, diff)
		}
		if diff := cmp.Diff([]string{"O/.github", "O/r.x"}, got.Sources); diff != "" {
			t.Errorf("%s: sources (-want +got):\n%s", step, diff)
		}
		var reqs []string
		for _, r := range g.all() {
			if !strings.HasSuffix(r.Path, "/access_tokens") {
				reqs = append(reqs, r.Path+" "+r.IfNoneMatch)
			}
		}
		// In any order: the layers are asked at once.
		if diff := cmp.Diff(wantRequests, reqs, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("%s: requests (-want +got):\n%s", step, diff)
		}
	}
	check("first load", []string{
		"/repos/O/.github/contents/.github/triagebot.yml ",
		"/repos/O/r.x/contents/.github/triagebot.yml ",
	})
	check("cached", nil)
	clock.Advance(6 * time.Minute)
	// Revalidated with the stored ETags; the 304s have no body, the cached one is used.
	check("revalidated", []string{
		`/repos/O/.github/contents/.github/triagebot.yml W/"` + etagOf(f, "O/.github/.github/triagebot.yml") + `"`,
		`/repos/O/r.x/contents/.github/triagebot.yml W/"` + etagOf(f, "O/r.x/.github/triagebot.yml") + `"`,
	})
	check("cached again", nil)

	// A push to the organisation's file: invalidated, the new file is read.
	f.set("O/.github/.github/triagebot.yml", "priority:\n  enabled: false\ncode_of_conduct:\n  reply: private\n")
	if err := l.Invalidate(ctx, "O", ".github"); err != nil {
		t.Fatal(err)
	}
	want.CodeOfConduct.Reply = rules.ReplyPrivate
	check("after invalidate", []string{
		`/repos/O/.github/contents/.github/triagebot.yml W/"` + etagOf(f, "O/.github/.github/triagebot.yml[old]") + `"`,
	})
}

// etagOf recomputes the test server's ETag; "[old]" asks for the one of the previous content.
func etagOf(f *files, key string) string {
	if strings.HasSuffix(key, "[old]") {
		return fakeETag("priority:\n  enabled: false\nneeds_triage:\n  label: org-triage\n")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fakeETag(f.files[key])
}

func fakeETag(content string) string {
	h := fnv.New32a()
	h.Write([]byte(content))
	return fmt.Sprintf("%08x", h.Sum32())
}

func TestBrokenFileNeverSilencesTheBot(t *testing.T) {
	g := newGHServer(t)
	f := &files{files: map[string]string{"o/r/.github/triagebot.yml": "needs_triage:\n  label: triage-me\n"}}
	f.register(g)
	l, _ := newLoader(t, g)
	ctx := context.Background()
	if _, err := l.Load(ctx, 5, "o", "r"); err != nil {
		t.Fatal(err)
	}

	f.set("o/r/.github/triagebot.yml", "needs_triage:\n  lable: typo\n")
	if err := l.Invalidate(ctx, "o", "r"); err != nil {
		t.Fatal(err)
	}
	got, err := l.Load(ctx, 5, "o", "r")
	if err != nil {
		t.Fatal(err)
	}
	var fe *FileError
	if !errors.As(got.ParseErr, &fe) || !fe.UsedLastGood || fe.Repo != "o/r" {
		t.Fatalf("ParseErr = %v, want a FileError using the last good version", got.ParseErr)
	}
	var ce *rules.ConfigError
	if !errors.As(got.ParseErr, &ce) || len(ce.Errors) == 0 || ce.Errors[0].Line != 2 {
		t.Errorf("ParseErr = %v, want the rules' error with its line", got.ParseErr)
	}
	if got.Config.NeedsTriage.Label != "triage-me" {
		t.Errorf("label = %q, want the last good file's", got.Config.NeedsTriage.Label)
	}
	// The worker's view: the configuration, no error.
	cfg, err := l.Config(ctx, rules.Target{InstallationID: 5, Owner: "o", Name: "r"})
	if err != nil || cfg.NeedsTriage.Label != "triage-me" {
		t.Errorf("Config = %q, %v", cfg.NeedsTriage.Label, err)
	}

	// A repository whose first file is broken gets the defaults, and the error.
	f.set("o/new/.github/triagebot.yml", "priority: [\n")
	got, err = l.Load(ctx, 5, "o", "new")
	if err != nil {
		t.Fatal(err)
	}
	if !errors.As(got.ParseErr, &fe) || fe.UsedLastGood {
		t.Errorf("ParseErr = %v, want a FileError without a last good version", got.ParseErr)
	}
	want := rules.DefaultConfig()
	want.Problems = []string{"o/new .github/triagebot.yml (ignored): invalid configuration: line 1: a value is missing, or a '[' or '{' is not closed (yaml: did not find expected node content)"}
	if diff := cmp.Diff(want, got.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}

	// The status page's list: both broken files, by repository, and not the cached contents.
	problems, err := ConfigProblems(ctx, l.kv)
	if err != nil {
		t.Fatal(err)
	}
	var repos []string
	for _, p := range problems {
		repos = append(repos, fmt.Sprintf("%s used-good=%v", p.Repo, p.UsingGood))
	}
	if diff := cmp.Diff([]string{"o/new used-good=false", "o/r used-good=true"}, repos); diff != "" {
		t.Errorf("ConfigProblems (-want +got):\n%s", diff)
	}
}

func TestMissingFilesAndUnreachableGitHub(t *testing.T) {
	g := newGHServer(t)
	f := &files{files: map[string]string{}, fail: map[string]int{}}
	f.register(g)
	l, clock := newLoader(t, g)
	ctx := context.Background()

	got, err := l.Load(ctx, 5, "o", "r")
	if err != nil || got.ParseErr != nil || got.Sources != nil {
		t.Fatalf("Load without files = %+v, %v; want the defaults", got, err)
	}
	if diff := cmp.Diff(rules.DefaultConfig(), got.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	g.reset()
	if _, err := l.Load(ctx, 5, "o", "r"); err != nil {
		t.Fatal(err)
	}
	if n := len(g.calls()); n != 0 {
		t.Errorf("missing files asked again within the period: %v", g.calls())
	}

	// GitHub failing: a cached answer is used; with nothing cached the load fails, transiently.
	f.fail["o/r"], f.fail["o/.github"], f.fail["p/.github"] = 502, 502, 502
	clock.Advance(time.Hour)
	if _, err := l.Load(ctx, 5, "o", "r"); err != nil {
		t.Errorf("Load with a stale cache and GitHub down: %v", err)
	}
	_, err = l.Load(ctx, 5, "p", "q")
	if err == nil || queue.IsPermanent(err) {
		t.Errorf("Load with nothing cached and GitHub down = %v, want a transient error", err)
	}
}

func TestConfigKey(t *testing.T) {
	tests := []struct{ owner, repo, want string }{
		{"Octo-Org", "hello.world", "file.octo-org.hello=2Eworld"},
		{"o", ".github", "file.o.=2Egithub"},
		{"o", "a_b", "file.o.a_b"},
	}
	for _, tt := range tests {
		if got := ConfigKey(tt.owner, tt.repo); got != tt.want {
			t.Errorf("ConfigKey(%q, %q) = %q, want %q", tt.owner, tt.repo, got, tt.want)
		}
	}
}

func TestTouchesConfig(t *testing.T) {
	if !TouchesConfig([]string{"README.md", ".github/triagebot.yml"}) || TouchesConfig([]string{"triagebot.yml"}) {
		t.Error("TouchesConfig is wrong")
	}
}

// A file that cannot be used, whatever the reason, never fails the event: its last good
// version (else the defaults) is used, the reason is reported once per version and named in
// Config.Problems for /why.
func TestUnusableFileFallsBackToLastGoodOrDefaults(t *testing.T) {
	big := "needs_triage:\n  label: big\n" + strings.Repeat("# padding padding padding padding\n", 9000) // ~300 KiB
	tests := []struct {
		name string
		raw  string // the answer to the contents request, "STATUS JSON"
		file string // or the file served normally
		want string // in the problem
	}{
		{name: "over 1 MB: GitHub answers encoding none",
			raw:  `200 {"type":"file","encoding":"none","content":"","size":1500000,"sha":"abc","path":".github/triagebot.yml"}`,
			want: "the file is 1.4 MiB; configuration files may be at most 256 KiB"},
		{name: "encoding none under the limit",
			raw:  `200 {"type":"file","encoding":"none","content":"","size":1000,"sha":"abc","path":".github/triagebot.yml"}`,
			want: "too large for GitHub's contents API"},
		{name: "over 100 MB: GitHub answers 403 too_large",
			raw:  `403 {"message":"This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, but you can use the Git Data API to request blobs up to 100 MB in size.","errors":[{"resource":"Blob","field":"data","code":"too_large"}]}`,
			want: "too large for GitHub's contents API"},
		{name: "over the 256 KiB limit", file: big, want: "configuration files may be at most 256 KiB"},
		{name: "no permission to read it",
			raw: `403 {"message":"Resource not accessible by integration"}`, want: "HTTP 403"},
		{name: "not base64",
			raw: `200 {"type":"file","encoding":"base64","content":"!!!","size":3,"sha":"abd"}`, want: "illegal base64"},
		{name: "broken YAML", file: "priority: [\n", want: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGHServer(t)
			f := &files{files: map[string]string{"o/r/.github/triagebot.yml": "needs_triage:\n  label: triage-me\n"}, raw: map[string]string{}}
			f.register(g)
			var mu sync.Mutex
			var reports []ConfigReport
			l, clock := newLoader(t, g, WithConfigReporter(func(_ context.Context, r ConfigReport) {
				mu.Lock()
				defer mu.Unlock()
				reports = append(reports, r)
			}))
			ctx := context.Background()
			if _, err := l.Load(ctx, 5, "o", "r"); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			if tt.raw != "" {
				f.raw["o/r"], f.raw["o/fresh"] = tt.raw, tt.raw
			} else {
				f.files["o/r/.github/triagebot.yml"], f.files["o/fresh/.github/triagebot.yml"] = tt.file, tt.file
			}
			f.mu.Unlock()
			if err := l.Invalidate(ctx, "o", "r"); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second time revalidated: the same version is not reported again
				cfg, err := l.Config(ctx, rules.Target{InstallationID: 5, RepoID: 9, Owner: "o", Name: "r"})
				if err != nil {
					t.Fatalf("Config: %v, want the last good configuration", err)
				}
				if cfg.NeedsTriage.Label != "triage-me" {
					t.Errorf("label %q, want the last good file's", cfg.NeedsTriage.Label)
				}
				if len(cfg.Problems) != 1 || !strings.Contains(cfg.Problems[0], tt.want) || !strings.Contains(cfg.Problems[0], "using its last good version") {
					t.Errorf("Problems = %q, want one naming %q", cfg.Problems, tt.want)
				}
				clock.Advance(time.Hour)
			}
			mu.Lock()
			if len(reports) != 1 || reports[0].File != "o/r" || reports[0].RepoID != 9 || !reports[0].UsedLastGood || !strings.Contains(reports[0].Problem, tt.want) {
				t.Errorf("reports = %+v, want one for o/r naming %q", reports, tt.want)
			}
			mu.Unlock()

			got, err := l.Load(ctx, 5, "o", "fresh")
			if err != nil {
				t.Fatalf("Load without a last good version: %v", err)
			}
			var fe *FileError
			if !errors.As(got.ParseErr, &fe) || fe.UsedLastGood || !strings.Contains(fe.Error(), tt.want) {
				t.Errorf("ParseErr = %v, want a FileError naming %q, ignored", got.ParseErr, tt.want)
			}
			want := rules.DefaultConfig()
			if diff := cmp.Diff(want.NeedsTriage, got.Config.NeedsTriage); diff != "" {
				t.Errorf("needs_triage without a last good version (-want +got):\n%s", diff)
			}
		})
	}
}

// An adoption recorded by another process while this one fetches the file (a label sync of the
// same repository) is kept: the fetch's write does not put back what it read before.
func TestAdoptionDuringAFetchIsKept(t *testing.T) {
	g := newGHServer(t)
	l, clock := newLoader(t, g)
	ctx := context.Background()
	var adopt sync.Once
	g.handle("GET /repos/{owner}/{repo}/contents/{path...}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("repo") == "r" {
			adopt.Do(func() {
				if err := l.Adopt(ctx, "O", "r", map[string]string{"needs-triage": "needs triage"}); err != nil {
					t.Error(err)
				}
			})
		}
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
	})
	for _, step := range []string{"fetched", "cached", "revalidated"} {
		got, err := l.Load(ctx, 5, "O", "r")
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if step != "fetched" && got.Config.NeedsTriage.Label != "needs triage" {
			t.Errorf("%s: needs-triage label %q, want the adopted %q", step, got.Config.NeedsTriage.Label, "needs triage")
		}
		clock.Advance(6 * time.Minute)
	}
}

// An invalidation that races a fetch keeps what the fetch wrote, adoptions included, and still
// makes the next load revalidate.
func TestInvalidateKeepsAConcurrentWrite(t *testing.T) {
	g := newGHServer(t)
	f := &files{files: map[string]string{"O/r/.github/triagebot.yml": "needs_triage:\n  label: triage-me\n"}}
	f.register(g)
	l, _ := newLoader(t, g)
	ctx := context.Background()
	if _, err := l.Load(ctx, 5, "O", "r"); err != nil {
		t.Fatal(err)
	}
	if err := l.Adopt(ctx, "O", "r", map[string]string{"triage-me": "Triage Me"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Invalidate(ctx, "O", "r"); err != nil {
		t.Fatal(err)
	}
	g.reset()
	got, err := l.Load(ctx, 5, "O", "r")
	if err != nil {
		t.Fatal(err)
	}
	if got.Config.NeedsTriage.Label != "Triage Me" {
		t.Errorf("needs-triage label %q, want the adopted %q", got.Config.NeedsTriage.Label, "Triage Me")
	}
	if len(g.calls()) == 0 {
		t.Error("the invalidated file was not revalidated")
	}
}
