package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/queuetest"
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
		{"app id not a number", map[string]string{"TRIAGEBOT_APP_ID": "abc"}, nil, `TRIAGEBOT_APP_ID: expected a valid 64 bit int but got "abc"`},
		{"app id negative", map[string]string{"TRIAGEBOT_APP_ID": "-3"}, nil, `TRIAGEBOT_APP_ID: -3 is not an App ID`},
		{"log level", map[string]string{"TRIAGEBOT_LOG_LEVEL": "loud"}, nil, `TRIAGEBOT_LOG_LEVEL: "loud" is not debug, info, warn or error`},
		{"log format", map[string]string{"TRIAGEBOT_LOG_FORMAT": "xml"}, nil, `TRIAGEBOT_LOG_FORMAT: "xml" is not json or console`},
		{"partitions", map[string]string{"TRIAGEBOT_PARTITIONS": "0"}, nil, "TRIAGEBOT_PARTITIONS: 0 is not between 1 and 1024"},
		{"max in flight", map[string]string{"TRIAGEBOT_MAX_IN_FLIGHT": "0"}, nil, "TRIAGEBOT_MAX_IN_FLIGHT: 0 is not between 1 and 100000"},
		{"dedup window too short", map[string]string{"TRIAGEBOT_DEDUP_WINDOW": "10m"}, nil, "TRIAGEBOT_DEDUP_WINDOW: 10m0s is shorter than 1h"},
		{"dedup window not a duration", map[string]string{"TRIAGEBOT_DEDUP_WINDOW": "soon"}, nil, `TRIAGEBOT_DEDUP_WINDOW: expected duration but got "soon"`},
		{"ack wait not positive", map[string]string{"TRIAGEBOT_ACK_WAIT": "-1s"}, nil, `TRIAGEBOT_ACK_WAIT: -1s is not a positive duration`},
		{"github url", map[string]string{"TRIAGEBOT_GITHUB_URL": "ftp://example"}, nil, `TRIAGEBOT_GITHUB_URL: "ftp://example" is not an http(s) URL`},
		{"nats url", map[string]string{"TRIAGEBOT_NATS_URL": "http://x:4222"}, nil, `TRIAGEBOT_NATS_URL: "http://x:4222" is not a nats://`},
		{"dry run", map[string]string{"TRIAGEBOT_DRY_RUN": "perhaps"}, nil, `TRIAGEBOT_DRY_RUN: bool value must be true, 1, yes, false, 0 or no but got "perhaps"`},
		{"nats cert without key", map[string]string{"TRIAGEBOT_NATS_URL": "nats://127.0.0.1:1", "TRIAGEBOT_NATS_CERT": empty}, nil, "TRIAGEBOT_NATS_CERT and TRIAGEBOT_NATS_KEY go together"},
		{"nats creds missing", map[string]string{"TRIAGEBOT_NATS_URL": "nats://127.0.0.1:1", "TRIAGEBOT_NATS_CREDS": "/missing"}, nil, "TRIAGEBOT_NATS_CREDS: cannot read /missing: no such file or directory"},
		{"nats creds without a url", map[string]string{"TRIAGEBOT_NATS_CREDS": empty}, nil, "TRIAGEBOT_NATS_CREDS: set, but TRIAGEBOT_NATS_URL is empty: the embedded server takes no credentials"},
		{"nats ca without a url", map[string]string{"TRIAGEBOT_NATS_CA": empty}, nil, "TRIAGEBOT_NATS_CA: set, but TRIAGEBOT_NATS_URL is empty"},
		{"replicas on the embedded server", map[string]string{"TRIAGEBOT_REPLICAS": "3"}, nil, "TRIAGEBOT_REPLICAS: 3 needs a NATS cluster (TRIAGEBOT_NATS_URL); the embedded server keeps one copy"},
		{"secret and secret file", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET": "s3cr3t-value", "TRIAGEBOT_WEBHOOK_SECRET_FILE": empty}, nil, "TRIAGEBOT_WEBHOOK_SECRET: set together with TRIAGEBOT_WEBHOOK_SECRET_FILE: keep one"},
		{"secret flag and secret file", map[string]string{"TRIAGEBOT_WEBHOOK_SECRET_FILE": empty}, []string{"--webhook-secret=s3cr3t-value"}, "--webhook-secret: set together with TRIAGEBOT_WEBHOOK_SECRET_FILE: keep one"},
		{"store limit", map[string]string{"TRIAGEBOT_STORE_MAX_BYTES": "10"}, nil, `TRIAGEBOT_STORE_MAX_BYTES: 10 is not a number of bytes`},
		{"max inflight bytes too small", map[string]string{"TRIAGEBOT_MAX_INFLIGHT_BYTES": "1000"}, nil, "TRIAGEBOT_MAX_INFLIGHT_BYTES: 1000 is not a number of bytes of at least 1048576 (1 MiB)"},
		{"max inflight bytes not a number", map[string]string{"TRIAGEBOT_MAX_INFLIGHT_BYTES": "64MiB"}, nil, `TRIAGEBOT_MAX_INFLIGHT_BYTES: expected a valid 64 bit int but got "64MiB"`},
		{"smee url not http", map[string]string{"TRIAGEBOT_SMEE_URL": "smee.io/abc"}, nil, `TRIAGEBOT_SMEE_URL: "smee.io/abc" is not an http(s) URL`},
		{"unknown flag", nil, []string{"--colour"}, "unknown flag --colour (see 'triagebot serve --help')"},
		{"bad flag value", nil, []string{"--partitions", "x"}, `--partitions: expected a valid 64 bit int but got "x"`},
		{"flag out of range", nil, []string{"--partitions=0"}, `--partitions: 0 is not between 1 and 1024`},
		{"stray argument", nil, []string{"now"}, `unexpected argument now`},
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
			unsetSettings(t)
			t.Setenv("TRIAGEBOT_ADMIN_LISTEN", "off") // its fixed default port may be another process's
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

// unsetSettings clears every TRIAGEBOT_ variable of the environment for the test.
func unsetSettings(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "TRIAGEBOT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr bytes.Buffer
	code := exitCode(run(context.Background(), []string{"serv"}, &bytes.Buffer{}, &stderr), &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `unexpected argument serv, did you mean "serve"?`) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

// parsed parses a command line as run does and gives the command kong selected.
func parsed(t *testing.T, args ...string) any {
	t.Helper()
	var c cli
	parser, err := newParser(&c, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return kctx.Selected().Target.Addr().Interface()
}

func TestSettingsFromFileAndFlagsWin(t *testing.T) {
	unsetSettings(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "secret")
	if err := os.WriteFile(f, []byte("new-secret\nold-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TRIAGEBOT_WEBHOOK_SECRET_FILE", f)
	t.Setenv("TRIAGEBOT_PARTITIONS", "8")
	t.Setenv("TRIAGEBOT_GITHUB_URL", "https://ghe.example.com/api/v3")
	c := parsed(t, "serve", "--partitions", "4").(*serveCmd)
	if err := checkSettings(nil, &c.receiverSettings, &c.githubSettings); err != nil {
		t.Fatal(err)
	}
	if c.Partitions != 4 || strings.Join(c.Secrets, ",") != "new-secret,old-secret" || c.GitHubURL != "https://ghe.example.com/api/v3/" {
		t.Fatalf("settings %+v", c)
	}
}

// Every boolean flag works bare and with =true or =false, and from its variable.
func TestBooleanFlags(t *testing.T) {
	unsetSettings(t)
	tests := []struct {
		give []string
		env  string
		want bool
	}{
		{give: []string{"serve", "--dry-run"}, want: true},
		{give: []string{"serve", "--dry-run=true"}, want: true},
		{give: []string{"serve", "--dry-run=false"}, want: false},
		{give: []string{"work", "--dry-run"}, want: true},
		{give: []string{"serve"}, env: "true", want: true},
		{give: []string{"serve", "--dry-run=false"}, env: "true", want: false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.give, " ")+" "+tt.env, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("TRIAGEBOT_DRY_RUN", tt.env)
			}
			var got bool
			switch c := parsed(t, tt.give...).(type) {
			case *serveCmd:
				got = c.DryRun
			case *workCmd:
				got = c.DryRun
			}
			if got != tt.want {
				t.Errorf("dry run %v, want %v", got, tt.want)
			}
		})
	}
	for _, give := range [][]string{{"demo", "--verbose"}, {"redeliver", "--list"}, {"config", "validate", "--server", "f"}, {"config", "validate", "f", "--server=true"}} {
		parsed(t, give...)
	}
}

// The data directory in use is named once, with what to do.
func TestDataDirectoryInUse(t *testing.T) {
	unsetSettings(t)
	s := queuetest.Start(t, "")
	t.Setenv("TRIAGEBOT_DATA_DIR", s.Dir)
	t.Setenv("TRIAGEBOT_WEBHOOK_SECRET", "s3cr3t-value")
	t.Setenv("TRIAGEBOT_LISTEN", "127.0.0.1:0")
	t.Setenv("TRIAGEBOT_ADMIN_LISTEN", "off")
	code, _, errOut := runCmd(t, "serve", "--dry-run")
	want := "triagebot: TRIAGEBOT_DATA_DIR: " + s.Dir + " is in use by another triagebot process; stop it first (one data directory serves one process)\n"
	if code != 2 || errOut != want {
		t.Fatalf("exit %d: %q, want %q", code, errOut, want)
	}
}

// Durations in the log carry their unit ("delay":"1.5s", not 1.5).
func TestLogDurationsHaveUnits(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(defaultSettings(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("retry", zap.Duration("delay", 1500*time.Millisecond))
	if !strings.Contains(buf.String(), `"delay":"1.5s"`) {
		t.Fatalf("log line %s", buf.String())
	}
}
