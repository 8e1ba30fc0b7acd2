package main

import (
	"strings"
	"testing"

	"github.com/triagebot/triagebot/internal/ghfake"
)

// The first user keeps `code_of_conduct.md`, in lower case, at the root: the welcome used to link
// GitHub's community guidelines instead. It is found through the community profile, and by a
// look in any case at the root, .github/ and docs/ where the profile says nothing.
func TestCodeOfConductFoundInAnyCase(t *testing.T) {
	tests := []struct {
		name, repo, file, want string
	}{
		{"lower case at the root", "octo-org/rocket", "code_of_conduct.md", "/octo-org/rocket/blob/main/code_of_conduct.md"},
		{"mixed case in docs", "octo-org/rocket", "docs/Code_Of_Conduct.md", "/octo-org/rocket/blob/main/docs/Code_Of_Conduct.md"},
		{"plain text in .github", "octo-org/rocket", ".github/CODE_OF_CONDUCT.txt", "/octo-org/rocket/blob/main/.github/CODE_OF_CONDUCT.txt"},
		{"the organisation's", "octo-org/.github", "code_of_conduct.md", "/octo-org/.github/blob/main/code_of_conduct.md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const repo = "octo-org/rocket"
			l, _ := startLocalT(t, localConfig{Fake: []ghfake.Option{ghfake.WithInstallation(7, "octo-org", repo, "octo-org/.github")}})
			if err := l.Fake.PutFile(tt.repo, tt.file, []byte("# Be kind\n")); err != nil {
				t.Fatal(err)
			}
			settle(t, l)
			n, err := l.Fake.OpenIssue(repo, "alice", "hello", "body")
			if err != nil {
				t.Fatal(err)
			}
			settle(t, l)
			c := botComments(l, repo, n)
			if len(c) != 1 || !strings.Contains(c[0], tt.want+")") {
				t.Errorf("welcome = %q, want a link to %s", c, tt.want)
			}
		})
	}
}
