package queue

import "testing"

// An author's key is a valid KV key for every GitHub login, an App's "[bot]" included, and the
// same in any case.
func TestAuthorKey(t *testing.T) {
	for login, want := range map[string]string{
		"Octo-Cat":        "repo.42.author.octo-cat",
		"dependabot[bot]": "repo.42.author.dependabot_5bbot_5d",
	} {
		got := AuthorKey(42, login)
		if got != want || !validKey.MatchString(got) {
			t.Errorf("AuthorKey(42, %q) = %q (valid: %v), want %q", login, got, validKey.MatchString(got), want)
		}
	}
}
