package ghapp

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/rules"
)

func newLookups(t *testing.T, g *ghServer) (*Lookups, *fakeClock) {
	t.Helper()
	a, clock := newTestApp(t, g)
	l, err := NewLookups(a, WithLookupClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	return l, clock
}

func TestCodeOfConductURL(t *testing.T) {
	lookIn := func(repo string) []string {
		return []string{"/repos/o/" + repo + "/community/profile", "/repos/o/" + repo + "/contents/",
			"/repos/o/" + repo + "/contents/.github", "/repos/o/" + repo + "/contents/docs"}
	}
	tests := []struct {
		name      string
		files     map[string]string
		profile   string // the community profile's code_of_conduct_file.html_url; none: 404 (private)
		want      string
		wantPaths []string // in any order: a round's places are asked at once
		found     string   // the path that answered (default: the last of wantPaths)
		// exist are the other paths that answer 200 (revalidated with If-None-Match)
		exist   []string
		private bool // the event says the repository is private
	}{
		{
			// Asked with the folders, and whether the owner has a .github repository: the
			// profile's answer comes first.
			name:      "the community profile",
			profile:   "https://github.example/o/r/blob/main/CODE_OF_CONDUCT.md",
			files:     map[string]string{"o/r/docs/code_of_conduct.md": "another"},
			want:      "https://github.example/o/r/blob/main/CODE_OF_CONDUCT.md",
			wantPaths: append(lookIn("r"), "/repos/o/.github"),
			found:     "/repos/o/r/community/profile",
			exist:     []string{"/repos/o/r/contents/docs"},
		},
		{
			name:  "lower case at the root, no profile (404: private, not said by the event)",
			files: map[string]string{"o/r/code_of_conduct.md": "be kind"},
			want:  "https://github.example/o/r/blob/main/code_of_conduct.md",
			// The repository's folders are asked at once, and whether the owner has a .github
			// repository with them.
			wantPaths: append(lookIn("r"), "/repos/o/.github"),
			found:     "/repos/o/r/contents/",
		},
		{
			// No profile to ask: the folders and the owner's .github at once, in one round trip.
			name:      "a private repository",
			files:     map[string]string{"o/r/docs/CODE_OF_CONDUCT.md": "be kind"},
			private:   true,
			want:      "https://github.example/o/r/blob/main/docs/CODE_OF_CONDUCT.md",
			wantPaths: append(lookIn("r")[1:], "/repos/o/.github"),
			found:     "/repos/o/r/contents/docs",
		},
		{
			name:      "organisation's docs folder",
			files:     map[string]string{"o/.github/docs/Code_Of_Conduct.md": "be kind"},
			want:      "https://github.example/o/.github/blob/main/docs/Code_Of_Conduct.md",
			wantPaths: slices.Concat(lookIn("r"), []string{"/repos/o/.github"}, lookIn(".github")),
			found:     "/repos/o/.github/contents/docs",
			exist:     []string{"/repos/o/.github"},
		},
		{
			name:      "none, with an organisation .github repository",
			files:     map[string]string{"o/.github/README.md": "hello"},
			wantPaths: slices.Concat(lookIn("r"), []string{"/repos/o/.github"}, lookIn(".github")),
			exist:     []string{"/repos/o/.github", "/repos/o/.github/contents/"},
		},
		{
			// Most owners have no .github repository: its four places are not asked.
			name:      "none",
			wantPaths: append(lookIn("r"), "/repos/o/.github"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGHServer(t)
			f := &files{files: map[string]string{}, profile: tt.profile}
			for k, v := range tt.files {
				f.files[k] = v
			}
			f.register(g)
			l, clock := newLookups(t, g)
			ctx := context.Background()
			target := target
			target.Private = tt.private
			look := l.For(target)
			for range 2 { // asked twice in one event: read once
				got, err := look.CodeOfConductURL(ctx)
				if err != nil || got != tt.want {
					t.Fatalf("CodeOfConductURL = %q, %v; want %q", got, err, tt.want)
				}
			}
			if diff := cmp.Diff(slices.Sorted(slices.Values(tt.wantPaths)), slices.Sorted(slices.Values(paths(g)))); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			g.reset()
			if got, _ := l.For(target).CodeOfConductURL(ctx); got != tt.want || len(paths(g)) != 0 {
				t.Errorf("next event: %q with requests %v, want the cached answer", got, paths(g))
			}
			clock.Advance(10 * time.Minute)
			if got, err := l.For(target).CodeOfConductURL(ctx); got != tt.want || err != nil {
				t.Errorf("after the TTL: %q, %v", got, err)
			}
			found := tt.found
			if found == "" {
				found = tt.wantPaths[len(tt.wantPaths)-1]
			}
			for _, r := range g.all() {
				if tt.want != "" && r.Path == found && r.IfNoneMatch == "" {
					t.Errorf("the found file revalidated without If-None-Match: %+v", r)
				}
				if r.Path != found && !slices.Contains(tt.exist, r.Path) && r.IfNoneMatch != "" {
					t.Errorf("a missing file asked with If-None-Match: %+v", r)
				}
			}
		})
	}
}

func paths(g *ghServer) []string {
	var out []string
	for _, r := range g.all() {
		if !strings.HasSuffix(r.Path, "/access_tokens") {
			out = append(out, r.Path)
		}
	}
	return out
}

func TestPermission(t *testing.T) {
	g := newGHServer(t)
	g.handle("GET /repos/o/r/collaborators/{user}/permission", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("user") {
		case "maint":
			writeJSON(w, 200, map[string]any{"permission": "write", "role_name": "maintain"})
		case "custom":
			writeJSON(w, 200, map[string]any{"permission": "read", "role_name": "security-reviewer"})
		case "admin":
			writeJSON(w, 200, map[string]any{"permission": "admin"})
		default:
			writeJSON(w, 404, map[string]any{"message": "Not Found"})
		}
	})
	l, clock := newLookups(t, g)
	ctx := context.Background()
	look := l.For(rules.Target{InstallationID: 5, Owner: "o", Name: "r"})
	tests := []struct{ login, want string }{
		{"maint", "maintain"}, {"Maint", "maintain"}, {"custom", "read"}, {"admin", "admin"}, {"ghost", "none"},
	}
	for _, tt := range tests {
		got, err := look.Permission(ctx, tt.login)
		if err != nil || got != tt.want {
			t.Errorf("Permission(%q) = %q, %v; want %q", tt.login, got, err, tt.want)
		}
	}
	if n := len(paths(g)); n != 4 {
		t.Errorf("requests = %v, want one per user", paths(g))
	}
	g.reset()
	if got, _ := l.For(rules.Target{InstallationID: 5, Owner: "o", Name: "r"}).Permission(ctx, "maint"); got != "maintain" || len(paths(g)) != 0 {
		t.Errorf("next event: %q with requests %v, want the cached answer", got, paths(g))
	}
	clock.Advance(6 * time.Minute)
	if _, err := l.For(rules.Target{InstallationID: 5, Owner: "o", Name: "r"}).Permission(ctx, "maint"); err != nil || len(paths(g)) != 1 {
		t.Errorf("after the TTL: %v, requests %v", err, paths(g))
	}
}
