package rules

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestCommentBodies compares every comment body the bot can post, as the rules produce it, with
// its golden file. Run `go test ./rules/ -run TestCommentBodies -update` after changing a text.
func TestCommentBodies(t *testing.T) {
	newcomer := issues(t, "opened.json", func(e *github.IssuesEvent) {
		e.Issue.AuthorAssociation = github.String("FIRST_TIME_CONTRIBUTOR")
		e.Issue.User = user("newbie")
		e.Sender = user("newbie")
	})
	hostile := comment(t, "created.json", func(e *github.IssueCommentEvent) {
		e.Comment.User = user("troll")
		e.Comment.Body = github.String("shut up, you idiot")
	})
	tests := []struct {
		name string
		give Event
		url  string
	}{
		{name: "welcome.md", give: newcomer, url: "https://github.com/Codertocat/Hello-World/blob/main/CODE_OF_CONDUCT.md"},
		{name: "welcome-no-code-of-conduct.md", give: newcomer},
		{name: "reminder.md", give: hostile, url: "https://github.com/Codertocat/Hello-World/blob/main/CODE_OF_CONDUCT.md"},
		{name: "reminder-no-code-of-conduct.md", give: hostile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.CodeOfConduct.URL = tt.url
			out := evaluate(t, tt.give, cfg, Memory{}, RepoMemory{})
			var got string
			for _, a := range out.Actions {
				if a.Type == Comment {
					got = a.Body
				}
			}
			if got == "" {
				t.Fatalf("no comment in %+v", out.Actions)
			}
			path := filepath.Join("testdata", "golden", tt.name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
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
				t.Errorf("%s (-golden +got):\n%s", path, diff)
			}
		})
	}
}
