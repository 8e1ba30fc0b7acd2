package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every malformed setting stops start-up with one line that names the variable, exit 2, and
// never echoes a secret.
func TestBadSettingsExitTwoNamingTheVariable(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := busy.Addr().String()
	badConfig := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(badConfig, []byte("defaults:\n  needs_triage:\n    labl: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badChannel := filepath.Join(dir, "bad-channel.yml")
	if err := os.WriteFile(badChannel, []byte("channels:\n  ops:\n    type: webhook\n    url: ftp://hooks.example/s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unknownKey := filepath.Join(dir, "unknown-channel-key.yml")
	if err := os.WriteFile(unknownKey, []byte("channels:\n  team:\n    type: github\n    mention: [\"@octo/maintainers\"]\n    url: https://example.com/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no secret", nil, nil, "TRIAGEBOT_WEBHOOK_SECRET: required"},
		{"empty secret", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": " , "}, nil, "TRIAGEBOT_WEBHOOK_SECRET: is empty"},
		{"secret file missing", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET_FILE": filepath.Join(dir, "nope")}, nil, "TRIAGEBOT_WEBHOOK_SECRET_FILE: cannot read"},
		{"secret file empty", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET_FILE": empty}, nil, "TRIAGEBOT_WEBHOOK_SECRET_FILE: " + empty + " holds no secret"},
		{"app id not a number", map[string]string{"TRIAGEBOT_APP_ID": "abc"}, nil, `TRIAGEBOT_APP_ID: "abc" is not an App ID`},
		{"log level", map[string]string{"TRIAGEBOT_LOG_LEVEL": "loud"}, nil, `TRIAGEBOT_LOG_LEVEL: "loud" is not debug, info, warn or error`},
		{"log format", map[string]string{"TRIAGEBOT_LOG_FORMAT": "xml"}, nil, `TRIAGEBOT_LOG_FORMAT: "xml" is not json or console`},
		{"partitions", map[string]string{"TRIAGEBOT_PARTITIONS": "0"}, nil, "TRIAGEBOT_PARTITIONS: 0 is not between 1 and 1024"},
		{"dedup window too short", map[string]string{"TRIAGEBOT_DEDUP_WINDOW": "10m"}, nil, "TRIAGEBOT_DEDUP_WINDOW: 10m0s is shorter than 1h"},
		{"dedup window not a duration", map[string]string{"TRIAGEBOT_DEDUP_WINDOW": "soon"}, nil, `TRIAGEBOT_DEDUP_WINDOW: "soon" is not a positive duration`},
		{"github url", map[string]string{"TRIAGEBOT_GITHUB_URL": "ftp://example"}, nil, `TRIAGEBOT_GITHUB_URL: "ftp://example" is not an http(s) URL`},
		{"nats url", map[string]string{"TRIAGEBOT_NATS_URL": "http://x:4222"}, nil, `TRIAGEBOT_NATS_URL: "http://x:4222" is not a nats://`},
		{"dry run", map[string]string{"TRIAGEBOT_DRY_RUN": "perhaps"}, nil, `TRIAGEBOT_DRY_RUN: "perhaps" is not true or false`},
		{"nats cert without key", map[string]string{"TRIAGEBOT_NATS_CERT": "c.pem"}, nil, "TRIAGEBOT_NATS_CERT and TRIAGEBOT_NATS_KEY go together"},
		{"store limit", map[string]string{"TRIAGEBOT_STORE_MAX_BYTES": "10"}, nil, `TRIAGEBOT_STORE_MAX_BYTES: "10" is not a number of bytes`},
		{"unknown flag", nil, []string{"--colour"}, "flag provided but not defined: -colour"},
		{"bad flag value", nil, []string{"--partitions", "x"}, `invalid value "x" for flag -partitions: "x" is not a whole number`},
		{"stray argument", nil, []string{"now"}, `serve takes no arguments, got "now"`},
		{"listen address", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_LISTEN": "localhost"}, nil, `TRIAGEBOT_LISTEN: "localhost" is not host:port (missing port in address)`},
		{"listen port taken", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_LISTEN": taken}, nil, "TRIAGEBOT_LISTEN: listen tcp " + taken + ": bind: address already in use"},
		{"server config missing", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_CONFIG": filepath.Join(dir, "none.yml")}, nil, "TRIAGEBOT_CONFIG:"},
		{"server config malformed", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_CONFIG": badConfig}, nil, "TRIAGEBOT_CONFIG: invalid configuration: line 3: defaults.needs_triage.labl"},
		{"channel url not http", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_CONFIG": badChannel}, nil, "TRIAGEBOT_CONFIG: invalid notification channels: line 4: channels.ops.url: must be an absolute http or https URL"},
		{"channel key of another type", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_CONFIG": unknownKey}, nil, "TRIAGEBOT_CONFIG: invalid notification channels: line 5: channels.team.url: only webhook channels take url"},
		{"app id without key", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_APP_ID": "12"}, nil, "TRIAGEBOT_PRIVATE_KEY_FILE: required with TRIAGEBOT_APP_ID"},
		{"key without app id", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_PRIVATE_KEY_FILE": empty}, nil, "TRIAGEBOT_APP_ID: required with TRIAGEBOT_PRIVATE_KEY_FILE"},
		{"key file missing", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_APP_ID": "12", "TRIAGEBOT_PRIVATE_KEY_FILE": filepath.Join(dir, "key.pem")}, nil, "TRIAGEBOT_PRIVATE_KEY_FILE: open " + filepath.Join(dir, "key.pem") + ": no such file or directory"},
		{"key file not a key", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_APP_ID": "12", "TRIAGEBOT_PRIVATE_KEY_FILE": badConfig}, nil, "TRIAGEBOT_PRIVATE_KEY_FILE:"},
		{"work without App credentials", map[string]string{"TRIAGEBOT_DATA_DIR": dir}, []string{"--dry-run=false"}, "TRIAGEBOT_APP_ID and TRIAGEBOT_PRIVATE_KEY_FILE: required unless TRIAGEBOT_DRY_RUN=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"TRIAGEBOT_WEBHOOK_SECRET", "TRIAGEBOT_WEBHOOK_SECRET_FILE", "TRIAGEBOT_APP_ID", "TRIAGEBOT_PRIVATE_KEY_FILE", "TRIAGEBOT_NATS_URL", "TRIAGEBOT_CONFIG"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			t.Setenv("TRIAGEBOT_DATA_DIR", t.TempDir())
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cmd := "serve"
			if strings.HasPrefix(tt.name, "work") {
				cmd = "work"
			}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{cmd}, tt.args...), &stdout, &stderr)
			code := exitCode(err, &stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and one line containing %q", code, stderr.String(), tt.want)
			}
			if strings.Contains(stderr.String(), "s3cr3t-value") {
				t.Fatalf("the secret was printed: %q", stderr.String())
			}
		})
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	for _, cmd := range []string{"serve", "receive", "work"} {
		var stdout bytes.Buffer
		err := run(context.Background(), []string{cmd, "--help"}, &stdout, &bytes.Buffer{})
		if code := exitCode(err, &bytes.Buffer{}); code != 0 {
			t.Fatalf("%s --help: exit %d", cmd, code)
		}
		for _, st := range settingTable() {
			if !strings.Contains(stdout.String(), st.env) || !strings.Contains(stdout.String(), "--"+st.flag) {
				t.Errorf("%s --help does not list %s / --%s", cmd, st.env, st.flag)
			}
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr bytes.Buffer
	code := exitCode(run(context.Background(), []string{"serv"}, &bytes.Buffer{}, &stderr), &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `unknown command "serv"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestSettingsFromFileAndFlagsWin(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "secret")
	if err := os.WriteFile(f, []byte("new-secret\nold-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TRIAGEBOT_WEBHOOK_SECRET_FILE": f, "TRIAGEBOT_PARTITIONS": "8", "TRIAGEBOT_GITHUB_URL": "https://ghe.example.com/api/v3"}
	s, err := parseSettings("serve", []string{"--partitions", "4"}, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Partitions != 4 || strings.Join(s.Secrets, ",") != "new-secret,old-secret" || s.GitHubURL != "https://ghe.example.com/api/v3/" {
		t.Fatalf("settings %+v", s)
	}
}
