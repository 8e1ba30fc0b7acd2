package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"
)

const secretURL = "https://hooks.slack.com/services/T0/B0/SECRETxyz"

func TestParseServerConfigValid(t *testing.T) {
	give := `
defaults:
  needs_triage: {label: triage-me}   # package rules' business
channels:
  maintainers:
    type: github
    mention: ["@octo/maintainers", "@alice"]
  chat:
    type: webhook
    digest: 30s
    url: ` + secretURL + `
    headers: {X-Token: abc}
  mail:
    type: email
    digest: 0
    smtp_host: smtp.example.org
    username: bot
    password_file: /run/secrets/smtp
    from: triagebot@example.org
    to: [maintainers@example.org]
  mail_tls:
    type: email
    smtp_host: smtp.example.org
    tls: implicit
    from: triagebot@example.org
    to: [a@example.org, "B <b@example.org>"]
`
	got, err := ParseServerConfig([]byte(give))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ChannelConfig{
		"maintainers": {Name: "maintainers", Type: TypeGitHub, Digest: time.Minute, Mention: []string{"@octo/maintainers", "@alice"}},
		"chat":        {Name: "chat", Type: TypeWebhook, Digest: 30 * time.Second, URL: secretURL, Headers: map[string]string{"X-Token": "abc"}},
		"mail": {Name: "mail", Type: TypeEmail, SMTPHost: "smtp.example.org", SMTPPort: 587, TLS: TLSStartTLS,
			Username: "bot", PasswordFile: "/run/secrets/smtp", From: "triagebot@example.org", To: []string{"maintainers@example.org"}},
		"mail_tls": {Name: "mail_tls", Type: TypeEmail, Digest: time.Minute, SMTPHost: "smtp.example.org", SMTPPort: 465, TLS: TLSImplicit,
			From: "triagebot@example.org", To: []string{"a@example.org", "B <b@example.org>"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("channels (-want +got):\n%s", diff)
	}
}

func TestParseChannelsErrors(t *testing.T) {
	tests := []struct {
		name string
		give string // the channels: mapping, starting on line 1
		want []string
	}{
		{"not a mapping", `[a, b]`, []string{`line 1: channels: expected a mapping of channel names, got a list`}},
		{"bad channel name", "\"a b\": {type: github, mention: [\"@a\"]}", []string{`line 1: channels.a b: a channel name is letters, digits, '-', '_' or '.'`}},
		{"channel not a mapping", "ops: webhook", []string{`line 1: channels.ops: expected a mapping, got "webhook"`}},
		{"no type", "ops:\n  url: " + secretURL, []string{`line 2: channels.ops: a channel needs a type (github, webhook, email)`}},
		{"unknown type", "ops:\n  type: sms", []string{`line 2: channels.ops.type: must be one of github, webhook, email, got "sms"`}},
		{"unknown key", "ops:\n  type: webhook\n  url: " + secretURL + "\n  colour: red", []string{
			`line 4: channels.ops.colour: unknown key (known: type, digest, url, headers)`}},
		{"key of another type", "ops:\n  type: webhook\n  url: " + secretURL + "\n  smtp_host: x", []string{
			`line 4: channels.ops.smtp_host: only email channels take smtp_host (this one is webhook)`}},
		{"repeated key", "ops:\n  type: webhook\n  url: " + secretURL + "\n  url: " + secretURL, []string{
			`line 4: channels.ops.url: key repeated`}},
		{"webhook without url", "ops:\n  type: webhook", []string{`line 2: channels.ops: a webhook channel needs ` + "`url`"}},
		{"webhook ftp url", "ops:\n  type: webhook\n  url: ftp://hooks.example/SECRETxyz", []string{
			`line 3: channels.ops.url: must be an absolute http or https URL (value not shown: it is a secret)`}},
		{"webhook relative url", "ops:\n  type: webhook\n  url: /services/SECRETxyz", []string{
			`line 3: channels.ops.url: must be an absolute http or https URL (value not shown: it is a secret)`}},
		{"webhook url not a string", "ops:\n  type: webhook\n  url: [" + secretURL + "]", []string{`line 3: channels.ops.url: expected a URL`}},
		{"webhook bad header", "ops:\n  type: webhook\n  url: " + secretURL + "\n  headers:\n    \"Bad Header\": x\n    X-Ok: \"SECRETxyz\\nInjected: 1\"", []string{
			`line 5: channels.ops.headers: "Bad Header" is not a valid HTTP header name`,
			`line 6: channels.ops.headers.X-Ok: a header value cannot contain line breaks`}},
		{"bad digest", "ops:\n  type: github\n  mention: [\"@a\"]\n  digest: soon", []string{
			`line 4: channels.ops.digest: expected a duration such as 1m or 30s, got "soon"`}},
		{"negative digest", "ops:\n  type: github\n  mention: [\"@a\"]\n  digest: -1m", []string{
			`line 4: channels.ops.digest: cannot be negative, got -1m`}},
		{"digest as a number", "ops:\n  type: github\n  mention: [\"@a\"]\n  digest: 60", []string{
			`line 4: channels.ops.digest: expected a duration such as 1m or 30s, got a number`}},
		{"github without mention", "ops:\n  type: github", []string{"line 2: channels.ops: a github channel needs `mention`: the teams or users to notify"}},
		{"github empty mention", "ops:\n  type: github\n  mention: []", []string{`line 3: channels.ops.mention: name at least one team or user`}},
		{"github bad mention", "ops:\n  type: github\n  mention: [alice, \"@org/team\", \"@-x\"]", []string{
			`line 3: channels.ops.mention[0]: "alice" is not @user or @org/team`,
			`line 3: channels.ops.mention[2]: "@-x" is not @user or @org/team`}},
		{"email missing everything", "ops:\n  type: email", []string{
			"line 2: channels.ops: an email channel needs `smtp_host`",
			"line 2: channels.ops: an email channel needs `from`",
			"line 2: channels.ops: an email channel needs `to`: a list of addresses"}},
		{"email bad values", "ops:\n  type: email\n  smtp_host: smtp.example.org\n  smtp_port: 70000\n  tls: ssl\n  from: not-an-address\n  to: [ok@example.org, nope]", []string{
			`line 5: channels.ops.tls: must be one of starttls, implicit, none, got "ssl"`,
			`line 4: channels.ops.smtp_port: expected a port number between 1 and 65535, got a number`,
			`line 6: channels.ops.from: "not-an-address" is not an email address`,
			`line 7: channels.ops.to[1]: "nope" is not an email address`}},
		{"email username without password", "ops:\n  type: email\n  smtp_host: h\n  username: bot\n  from: a@b.c\n  to: [a@b.c]", []string{
			"line 4: channels.ops.username: a username needs `password_file`"}},
		{"email password without username", "ops:\n  type: email\n  smtp_host: h\n  password_file: /p\n  from: a@b.c\n  to: [a@b.c]", []string{
			"line 4: channels.ops.password_file: a password needs `username`"}},
		{"email clear-text password", "ops:\n  type: email\n  smtp_host: smtp.example.org\n  tls: none\n  username: bot\n  password_file: /p\n  from: a@b.c\n  to: [a@b.c]", []string{
			"line 5: channels.ops.username: tls: none would send the password in clear text; use starttls or implicit (none is allowed with a password only on localhost)"}},
		{"email empty to", "ops:\n  type: email\n  smtp_host: h\n  from: a@b.c\n  to: []", []string{`line 5: channels.ops.to: name at least one address`}},
		{"several channels, every problem", "a:\n  type: github\n  mention: []\nb:\n  type: webhook\n  url: nope", []string{
			`line 3: channels.a.mention: name at least one team or user`,
			`line 6: channels.b.url: must be an absolute http or https URL (value not shown: it is a secret)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var node yaml.Node
			if err := yaml.Unmarshal([]byte(tt.give), &node); err != nil {
				t.Fatal(err)
			}
			got, err := ParseChannels(node.Content[0])
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, %v; want a *ConfigError", got, err)
			}
			var msgs []string
			for _, fe := range ce.Errors {
				msgs = append(msgs, fe.String())
			}
			if diff := cmp.Diff(tt.want, msgs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "SECRETxyz") {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

func TestParseServerConfigSyntaxErrorHasALine(t *testing.T) {
	_, err := ParseServerConfig([]byte("channels:\n  ops:\n    type: webhook\n    url: \"" + secretURL + "\n  x: [\n"))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Errors[0].Line == 0 || strings.Contains(err.Error(), "SECRETxyz") {
		t.Errorf("syntax error = %v: want a line and no secret", err)
	}
}

func TestParseChannelDecodesOneChannel(t *testing.T) {
	var node yaml.Node
	if err := yaml.Unmarshal([]byte("type: webhook\nurl: "+secretURL), &node); err != nil {
		t.Fatal(err)
	}
	got, err := ParseChannel("chat", node.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	if got.URL.Reveal() != secretURL || got.Digest != DefaultDigest {
		t.Errorf("got %+v", got)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	ch := ChannelConfig{Name: "chat", Type: TypeWebhook, URL: secretURL, Headers: map[string]string{"Authorization": "Bearer SECRETxyz"}}
	js, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	zap.New(core).Info("channel", zap.Any("channel", ch), zap.Stringer("url", ch.URL), zap.Any("raw_url", ch.URL))
	logged, _ := json.Marshal(logs.All()[0].ContextMap())
	for _, s := range []string{
		fmt.Sprintf("%v", ch), fmt.Sprintf("%+v", ch), fmt.Sprintf("%#v", ch), fmt.Sprintf("%s", ch.URL),
		fmt.Sprintf("%#v", ch.URL), fmt.Sprintf("%v", map[string]ChannelConfig{"chat": ch}), string(js), string(logged),
	} {
		if strings.Contains(s, "SECRETxyz") {
			t.Errorf("a secret printed: %s", s)
		}
	}
	if got, want := ch.URL.String(), "https://hooks.slack.com/…"; got != want {
		t.Errorf("redacted URL = %q, want %q", got, want)
	}
}

func FuzzParseServerConfig(f *testing.F) {
	f.Add([]byte("channels:\n  ops:\n    type: webhook\n    url: " + secretURL + "\n"))
	f.Add([]byte("channels:\n  ops:\n    type: email\n    smtp_host: h\n    from: a@b.c\n    to: [a@b.c]\n    digest: 2m\n"))
	f.Add([]byte("channels:\n  ops: {type: github, mention: ['@a/b']}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		chans, err := ParseServerConfig(data)
		if err != nil {
			return
		}
		for name, ch := range chans {
			if ch.Name != name || !slices.Contains(channelTypes, ch.Type) || ch.Digest < 0 {
				t.Fatalf("accepted an invalid channel %q: %+v", name, ch)
			}
		}
	})
}
