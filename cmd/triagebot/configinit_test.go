package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/rules"
)

// uncomment turns the commented keys of a starter file back into YAML.
func uncomment(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "# ") {
			l = l[1:]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestConfigInitWritesEveryDefaultCommented(t *testing.T) {
	unsetSettings(t)
	file := filepath.Join(t.TempDir(), ".github", "triagebot.yml")
	code, out, errOut := runCmd(t, "config", "init", "-o", file)
	if code != 0 || !strings.HasPrefix(out, "wrote "+file+"\n") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// As written, every key is a comment: the defaults apply.
	if code, out, _ := runCmd(t, "config", "validate", file); code != 0 || !strings.Contains(out, "no settings, only comments: every default applies") {
		t.Errorf("validate the starter: exit %d %s", code, out)
	}
	// Uncommented, it is exactly the defaults.
	got, err := rules.ParseConfig(rules.DefaultConfig(), []byte(uncomment(string(b))))
	if err != nil {
		t.Fatalf("uncommented starter: %v\n%s", err, uncomment(string(b)))
	}
	if diff := cmp.Diff(rules.DefaultConfig(), got); diff != "" {
		t.Errorf("uncommented starter vs the defaults (-want +got):\n%s", diff)
	}
	if code, _, errOut := runCmd(t, "config", "init", "-o", file); code != 1 || errOut != "triagebot: config init: "+file+" exists; --force replaces it\n" {
		t.Errorf("second init: exit %d %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "config", "init", "-o", file, "--force"); code != 0 {
		t.Errorf("init --force: exit %d %q", code, errOut)
	}
}

// config init --from reads a repository's labels and issue templates through the App and
// proposes the needs-triage label it uses and the template labels that are not triage.
func TestConfigInitFromARepository(t *testing.T) {
	unsetSettings(t)
	fake, gh := fakeGitHub(t)
	const repo = "octo-org/rocket"
	if _, err := fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	// The repository's labels, made by issues that carry them.
	if _, err := fake.OpenIssue(repo, "alice", "Dark mode", "", "feature request", "needs triage"); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.OpenIssue(repo, "bob", "Crash", "", "bug", "good first issue"); err != nil {
		t.Fatal(err)
	}
	for path, text := range map[string]string{
		".github/ISSUE_TEMPLATE/feature.yml": "name: Feature request\ndescription: Suggest an idea\nlabels: [\"feature request\", \"needs triage\"]\nbody:\n  - type: textarea\n    attributes: {label: What}\n",
		".github/ISSUE_TEMPLATE/bug.md":      "---\nname: Bug report\nabout: Something is broken\nlabels: bug, needs triage\n---\n\nWhat happened?\n",
		".github/ISSUE_TEMPLATE/config.yml":  "blank_issues_enabled: false\n",
	} {
		if err := fake.PutFile(repo, path, []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	setBotEnv(t, fake, gh.URL, dir)
	file := filepath.Join(dir, "triagebot.yml")
	code, out, errOut := runCmd(t, "config", "init", "--from", repo, "-o", file)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	want := "wrote " + file + "\n" +
		"  needs-triage label: \"needs triage\", which octo-org/rocket already uses\n" +
		"  labels its 2 issue templates apply, which do not count as triage: \"bug\", \"feature request\"\n" +
		"Check it with 'triagebot config validate " + file + "', then commit it on the default branch.\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := rules.ParseConfig(rules.DefaultConfig(), b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if cfg.NeedsTriage.Label != "needs triage" {
		t.Errorf("label %q", cfg.NeedsTriage.Label)
	}
	if diff := cmp.Diff([]string{"needs triage", "priority: .*", "bug", "feature request"}, cfg.NeedsTriage.NotTriageLabels); diff != "" {
		t.Errorf("not_triage_labels (-want +got):\n%s", diff)
	}
	// The rest is still the defaults.
	want2 := rules.DefaultConfig()
	want2.NeedsTriage.Label, want2.NeedsTriage.NotTriageLabels = cfg.NeedsTriage.Label, cfg.NeedsTriage.NotTriageLabels
	if diff := cmp.Diff(want2, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}

	// A repository the App is not installed on, and no credentials: one line each.
	if code, _, errOut := runCmd(t, "config", "init", "--from", "octo-org/elsewhere", "-o", "-"); code != 1 || !strings.HasPrefix(errOut, "triagebot: config init --from octo-org/elsewhere: the App is not installed on octo-org/elsewhere: ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("not installed: exit %d %q", code, errOut)
	}
	unsetSettings(t)
	if code, _, errOut := runCmd(t, "config", "init", "--from", repo, "-o", "-"); code != 1 || errOut != "triagebot: config init --from octo-org/rocket: needs the App's credentials: TRIAGEBOT_APP_ID and TRIAGEBOT_PRIVATE_KEY_FILE (see 'triagebot setup')\n" {
		t.Errorf("no credentials: exit %d %q", code, errOut)
	}
}
