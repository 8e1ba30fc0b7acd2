package ghapp

import (
	"strings"
	"testing"
)

func TestParseConfigKeyUndoesConfigKey(t *testing.T) {
	for _, give := range [][2]string{{"octo-org", "rocket"}, {"Octo.Org", "my.repo_x"}, {"a", ".github"}, {"ü", "<script>"}} {
		got, ok := parseConfigKey(ConfigKey(give[0], give[1]))
		want := strings.ToLower(give[0] + "/" + give[1])
		if !ok || got != want {
			t.Errorf("parseConfigKey(ConfigKey(%q, %q)) = %q, %v; want %q", give[0], give[1], got, ok, want)
		}
	}
	for _, bad := range []string{"file.a", "x.a.b", "file.a=4.b", "file.a=ZZ.b"} {
		if got, ok := parseConfigKey(bad); ok {
			t.Errorf("parseConfigKey(%q) = %q, want not ok", bad, got)
		}
	}
}
