package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.yml", "priority:\n  score: participants\ncode_of_conduct:\n  reply: private\n")
	empty := write("empty.yml", "")
	bad := write("bad.yml", "needs_triage:\n  lable: x\npriority:\n  levels:\n    - {label: low, at: 3}\n    - {label: high, at: 20}\n  hysteresis: lots\n")
	syntax := write("syntax.yml", "priority: [\n")
	huge := write("huge.yml", "priority: {enabled: false}\n"+strings.Repeat("# padding\n", 30000))
	missingPassword := write("missing-password.yml", "defaults: {priority: {enabled: 0}}\nchannels:\n  mail: {type: email, smtp_host: smtp.example.org, smtp_port: 587, username: bot,\n         password_file: "+filepath.Join(dir, "no-password")+", from: a@example.org, to: [b@example.org]}\n  pigeon: {type: bird}\n")
	tabs := write("tabs.yml", "priority:\n  enabled: true\n\tscore: comments\n")
	server := write("server.yml", "defaults:\n  priority: {enabled: false}\nchannels:\n  chat: {type: webhook, url: 'https://chat.example.org/hooks/abc'}\n")
	badServer := write("bad-server.yml", "defaults:\n  priority: {enabled: 0}\nchannels:\n  chat: {type: webhook, url_file: /run/secrets/chat}\n  pigeon: {type: bird}\n")
	tests := []struct {
		name       string
		give       []string
		wantStdout string
		wantStderr string
		wantAlso   []string // more parts of stderr
		wantCode   int
		stdin      string
	}{
		{
			name: "good", give: []string{"validate", good},
			wantStdout: good + `: ok: needs-triage on ("needs-triage"), priority on (3 levels by participants), code of conduct on (reply private), commands on, 0 notification routes` + "\n",
		},
		{
			name: "empty file: the defaults", give: []string{"validate", empty},
			wantStdout: empty + `: empty: every default applies: needs-triage on ("needs-triage"), priority on (3 levels by comments), code of conduct on (reply public), commands on, 0 notification routes` + "\n",
		},
		{
			name: "every error with its line", give: []string{"validate", bad}, wantCode: 1,
			wantStderr: bad + ":2: needs_triage.lable: unknown key (known: enabled, label, not_triage_labels, remove_on_assign, remove_on_close, triage_bots)\n" +
				bad + ":6: priority.levels[1].at: levels must go from the highest threshold down: 20 is not below 3 (\"low\")\n" +
				bad + ":7: priority.hysteresis: expected a whole number, got \"lots\"\n",
		},
		{name: "over 256 KiB", give: []string{"validate", huge}, wantCode: 1,
			wantStderr: huge + ": the file is 293.0 KiB; configuration files may be at most 256 KiB\n"},
		{name: "syntax error", give: []string{"validate", syntax}, wantCode: 1, wantStderr: syntax + ":1: a value is missing, or a '[' or '{' is not closed (yaml: did not find expected node content)\n"},
		{
			name: "server file", give: []string{"validate", "--server", server},
			wantStdout: server + `: ok: needs-triage on ("needs-triage"), priority off, code of conduct on (reply public), commands on, 0 notification routes, 1 channel` + "\n",
		},
		{
			name: "bad server file: defaults and channels", give: []string{"validate", "--server", badServer}, wantCode: 1,
			// The channels' messages are internal/notify's: only their lines are checked here.
			wantStderr: badServer + ":2: defaults.priority.enabled: expected true or false, got a number\n" + badServer + ":4: channels.chat",
			wantAlso:   []string{"\n" + badServer + ":5: channels.pigeon"},
		},
		{name: "tab indentation", give: []string{"validate", tabs}, wantCode: 1, wantStderr: tabs + ":3: indented with a tab: YAML indents with spaces only\n"},
		{name: "standard input", give: []string{"validate", "-"}, stdin: "priority:\n  score: participants\n",
			wantStdout: `<stdin>: ok: needs-triage on ("needs-triage"), priority on (3 levels by participants), code of conduct on (reply public), commands on, 0 notification routes` + "\n"},
		{name: "standard input, bad", give: []string{"validate", "-"}, stdin: "priority:\n  scor: participants\n", wantCode: 1,
			wantStderr: "<stdin>:2: priority.scor: unknown key"},
		{name: "server file naming a missing password file", give: []string{"validate", "--server", missingPassword}, wantCode: 1,
			wantStderr: missingPassword + ":1: defaults.priority.enabled: expected true or false, got a number\n" +
				missingPassword + ":4: channels.mail.password_file: cannot read " + filepath.Join(dir, "no-password") + " here: no such file or directory\n" +
				missingPassword + ":5: channels.pigeon.type: must be one of github, webhook, email, got \"bird\"\n"},
		{name: "server file with a syntax error, said once", give: []string{"validate", "--server", syntax}, wantCode: 1,
			wantStderr: syntax + ":1: a value is missing, or a '[' or '{' is not closed (yaml: did not find expected node content)\n"},
		{name: "missing file", give: []string{"validate", filepath.Join(dir, "none.yml")}, wantCode: 1, wantStderr: "no such file"},
		{name: "no file", give: []string{"validate"}, wantCode: 2, wantStderr: `expected "<file>"`},
		{name: "no verb", give: nil, wantCode: 2, wantStderr: `expected one of "validate", "init"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := exitCode(runIO(context.Background(), append([]string{"config"}, tt.give...), strings.NewReader(tt.stdin), &stdout, &stderr), &stderr)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d; stderr %q", code, tt.wantCode, stderr.String())
			}
			if diff := cmp.Diff(tt.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if tt.wantCode == 1 && strings.HasSuffix(tt.wantStderr, "\n") {
				if diff := cmp.Diff(tt.wantStderr, stderr.String()); diff != "" {
					t.Errorf("stderr (-want +got):\n%s", diff)
				}
			} else if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			for _, want := range tt.wantAlso {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
				}
			}
		})
	}
}
