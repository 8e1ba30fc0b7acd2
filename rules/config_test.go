package rules

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// designDefaults is the configuration block of DESIGN.md §5, verbatim.
const designDefaults = `needs_triage:
  enabled: true
  label: needs-triage
  # Removed once a maintainer triages: labels the issue (other than these), assigns it, or runs /triage.
  # Labels the author's issue template applied when opening do not count as triage.
  not_triage_labels: ["needs-triage", "priority: .*"]   # regular expressions, whole label, any case
  remove_on_assign: true
priority:
  enabled: true
  applies_to: []              # label regexes; empty = every open issue
  score: comments             # comments | participants | comments_and_reactions
  levels:                     # first level the score reaches wins; below the last: no priority label
    - {label: "priority: high", at: 20}
    - {label: "priority: medium", at: 10}
    - {label: "priority: low", at: 3}
  hysteresis: 2               # drop a level only when the score is this far below its threshold
  respect_manual: true        # a priority label a human set is left alone
code_of_conduct:
  enabled: true
  url: ""                     # empty: the repository's or organisation's CODE_OF_CONDUCT.md
  welcome_first_time: true    # first issue from a user in this repository: one welcome with the link
  patterns: []                # extra regexes that call for a reminder
  builtin_patterns: true      # a small built-in list of hostile phrases
  reply: public               # public: one reminder per user per issue; private: only notify maintainers
commands:
  enabled: true
  # anyone | author | triage | write | maintain | admin (author = the issue's author or triage and up)
  permissions: {label: triage, remove-label: triage, priority: triage, triage: triage, assign: triage,
                unassign: triage, close: author, reopen: author, coc: triage, notify: anyone,
                help: anyone, why: anyone}
  anyone_may_label: []        # label regexes that anyone may add or remove
notifications:
  routes: []                  # see the notifications issue
`

func TestDefaultConfigIsTheDesignBlock(t *testing.T) {
	got, err := ParseConfig(Config{}, []byte(designDefaults))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	// The defaults beyond DESIGN.md: /needs-triage (a command of issue 5) needs a permission;
	// backfill (issue 9) is on.
	delete(want.Commands.Permissions, "needs-triage")
	want.Backfill = false
	// And those of issue 12 §3 (bots' labels are not triage, closing takes needs-triage off).
	want.NeedsTriage.TriageBots, want.NeedsTriage.RemoveOnClose = nil, false
	// And the security-report guard of issue 12 §1, with its command.
	want.Security = SecurityConfig{}
	delete(want.Commands.Permissions, "not-security")
	delete(want.Commands.Permissions, "self-assign")
	// And the lifecycle of issue 12 §2, with its commands.
	want.Lifecycle = LifecycleConfig{}
	delete(want.Commands.Permissions, "lifecycle")
	delete(want.Commands.Permissions, "remove-lifecycle")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DESIGN.md §5 parsed (-DefaultConfig +parsed):\n%s", diff)
	}
}

func TestParseConfigOverlay(t *testing.T) {
	tests := []struct {
		name string
		give string
		want func(*Config)
	}{
		{name: "empty file", give: "", want: func(*Config) {}},
		{name: "only comments", give: "# nothing here\n", want: func(*Config) {}},
		{name: "empty section", give: "priority:\n", want: func(*Config) {}},
		{name: "one key", give: "needs_triage:\n  label: triage/needed\n", want: func(c *Config) { c.NeedsTriage.Label = "triage/needed" }},
		{name: "switch a rule off", give: "code_of_conduct: {enabled: false}\n", want: func(c *Config) { c.CodeOfConduct.Enabled = false }},
		{
			name: "a list replaces the base list",
			give: "priority:\n  levels:\n    - {label: P1, at: 5}\n  hysteresis: 0\n  score: participants\n",
			want: func(c *Config) {
				c.Priority.Levels = []Level{{Label: "P1", At: 5}}
				c.Priority.Hysteresis = 0
				c.Priority.Score = ScoreParticipants
			},
		},
		{name: "an empty list", give: "needs_triage:\n  not_triage_labels: []\n", want: func(c *Config) { c.NeedsTriage.NotTriageLabels = []string{} }},
		{name: "permissions override command by command", give: "commands:\n  permissions: {close: triage}\n", want: func(c *Config) { c.Commands.Permissions["close"] = "triage" }},
		{
			name: "routes",
			give: "notifications:\n  routes:\n    - {on: labeled, label: security, to: [security-team]}\n    - {on: untriaged, after: 72h, to: [chat, mail]}\n",
			want: func(c *Config) {
				c.Notifications.Routes = []Route{{On: RouteLabeled, Label: "security", To: []string{"security-team"}},
					{On: RouteUntriaged, After: "72h", To: []string{"chat", "mail"}}}
			},
		},
		{name: "numbers as label names", give: "needs_triage: {label: 2024}\n", want: func(c *Config) { c.NeedsTriage.Label = "2024" }},
		{name: "url", give: "code_of_conduct: {url: 'https://example.org/coc'}\n", want: func(c *Config) { c.CodeOfConduct.URL = "https://example.org/coc" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := DefaultConfig()
			got, err := ParseConfig(base, []byte(tt.give))
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultConfig()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(DefaultConfig(), base); diff != "" {
				t.Errorf("the base was modified (-before +after):\n%s", diff)
			}
		})
	}
}

// TestParseConfigLayers: server defaults, then the organisation's file, then the repository's.
func TestParseConfigLayers(t *testing.T) {
	server, err := ParseServerConfig([]byte("defaults:\n  priority: {hysteresis: 5}\n  code_of_conduct: {reply: private}\n"))
	if err != nil {
		t.Fatal(err)
	}
	org, err := ParseConfig(server.Defaults, []byte("code_of_conduct: {url: 'https://org.example/coc'}\npriority: {hysteresis: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	repo, err := ParseConfig(org, []byte("priority: {score: participants}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.CodeOfConduct.Reply = ReplyPrivate
	want.CodeOfConduct.URL = "https://org.example/coc"
	want.Priority.Hysteresis = 1
	want.Priority.Score = ScoreParticipants
	if diff := cmp.Diff(want, repo); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want []FieldError
	}{
		{
			name: "unknown key", give: "needs_triage:\n  lable: x\n",
			want: []FieldError{{Line: 2, Path: "needs_triage.lable", Msg: "unknown key (known: enabled, label, not_triage_labels, remove_on_assign, remove_on_close, triage_bots)"}},
		},
		{
			name: "unknown section", give: "# a comment\npriorty:\n  enabled: false\n",
			want: []FieldError{{Line: 2, Path: "priorty", Msg: "unknown key (known: backfill, code_of_conduct, commands, labels, lifecycle, needs_triage, notifications, priority, security)"}},
		},
		{name: "wrong type", give: "priority:\n  enabled: yes please\n", want: []FieldError{{Line: 2, Path: "priority.enabled", Msg: `expected true or false, got "yes please"`}}},
		{name: "number expected", give: "priority:\n  hysteresis: two\n", want: []FieldError{{Line: 2, Path: "priority.hysteresis", Msg: `expected a whole number, got "two"`}}},
		{name: "negative", give: "priority:\n  hysteresis: -1\n", want: []FieldError{{Line: 2, Path: "priority.hysteresis", Msg: "must be at least 0, got -1"}}},
		{name: "a list expected", give: "code_of_conduct:\n  patterns: spam\n", want: []FieldError{{Line: 2, Path: "code_of_conduct.patterns", Msg: `expected a list, got "spam"`}}},
		{
			name: "invalid regexp", give: "code_of_conduct:\n  patterns:\n    - ok\n    - '(unclosed'\n",
			want: []FieldError{{Line: 4, Path: "code_of_conduct.patterns[1]", Msg: `invalid regular expression "(unclosed": missing closing ) in "(?i)(unclosed"`}},
		},
		{
			name: "levels out of order", give: "priority:\n  levels:\n    - {label: low, at: 3}\n    - {label: high, at: 20}\n",
			want: []FieldError{{Line: 4, Path: "priority.levels[1].at", Msg: `levels must go from the highest threshold down: 20 is not below 3 ("low")`}},
		},
		{
			name: "a level without a threshold", give: "priority:\n  levels:\n    - {label: high}\n",
			want: []FieldError{{Line: 3, Path: "priority.levels[0]", Msg: "a level needs a threshold (at)"}},
		},
		{
			name: "label too long", give: "needs_triage:\n  label: " + strings.Repeat("x", 51) + "\n",
			want: []FieldError{{Line: 2, Path: "needs_triage.label", Msg: `label "` + strings.Repeat("x", 51) + `" is 51 characters long; GitHub allows at most 50`}},
		},
		{name: "empty label", give: "needs_triage:\n  label: ''\n", want: []FieldError{{Line: 2, Path: "needs_triage.label", Msg: "a label name cannot be empty"}}},
		{name: "enum", give: "code_of_conduct:\n  reply: loud\n", want: []FieldError{{Line: 2, Path: "code_of_conduct.reply", Msg: `must be one of public, private, got "loud"`}}},
		{name: "url", give: "code_of_conduct:\n  url: conduct.md\n", want: []FieldError{{Line: 2, Path: "code_of_conduct.url", Msg: `expected an http(s) URL or nothing, got "conduct.md"`}}},
		{
			name: "unknown command", give: "commands:\n  permissions:\n    lable: anyone\n",
			want: []FieldError{{Line: 3, Path: "commands.permissions.lable", Msg: "unknown key (known: assign, close, coc, help, label, lifecycle, needs-triage, not-security, notify, priority, remove-label, remove-lifecycle, reopen, self-assign, triage, unassign, why)"}},
		},
		{
			name: "unknown permission", give: "commands:\n  permissions:\n    close: everyone\n",
			want: []FieldError{{Line: 3, Path: "commands.permissions.close", Msg: `must be one of anyone, author, triage, write, maintain, admin, got "everyone"`}},
		},
		{name: "repeated key", give: "priority:\n  enabled: true\n  enabled: false\n", want: []FieldError{{Line: 3, Path: "priority.enabled", Msg: "key repeated"}}},
		{name: "syntax", give: "priority:\n  enabled: true\n levels: [\n", want: []FieldError{{Line: 3, Msg: "this line's indentation does not line up with the keys above it (yaml: did not find expected key)"}}},
		{name: "not a mapping", give: "- a\n- b\n", want: []FieldError{{Line: 1, Msg: "expected a mapping, got a list"}}},
		{name: "two documents", give: "priority: {}\n---\npriority: {}\n", want: []FieldError{{Line: 2, Msg: "only one YAML document is allowed"}}},
		{
			name: "route needs", give: "notifications:\n  routes:\n    - {on: untriaged, to: [a]}\n    - {on: labeled, level: high, to: []}\n",
			want: []FieldError{
				{Line: 3, Path: "notifications.routes[0]", Msg: "a route on untriaged needs `after`"},
				{Line: 4, Path: "notifications.routes[1]", Msg: "a route needs at least one channel in `to`"},
				{Line: 4, Path: "notifications.routes[1].level", Msg: "only a route on priority_changed takes a level"},
			},
		},
		{
			name: "every error is reported",
			give: "needs_triage:\n  enabled: maybe\npriority:\n  score: votes\n  hysteresis: x\nextra: 1\n",
			want: []FieldError{
				{Line: 2, Path: "needs_triage.enabled", Msg: `expected true or false, got "maybe"`},
				{Line: 4, Path: "priority.score", Msg: `must be one of comments, participants, comments_and_reactions, got "votes"`},
				{Line: 5, Path: "priority.hysteresis", Msg: `expected a whole number, got "x"`},
				{Line: 6, Path: "extra", Msg: "unknown key (known: backfill, code_of_conduct, commands, labels, lifecycle, needs_triage, notifications, priority, security)"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := DefaultConfig()
			got, err := ParseConfig(base, []byte(tt.give))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if diff := cmp.Diff(tt.want, ce.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(base, got); diff != "" {
				t.Errorf("a bad file must give back the base (-base +got):\n%s", diff)
			}
		})
	}
}

func TestParseServerConfig(t *testing.T) {
	give := `defaults:
  needs_triage: {label: triage}
channels:
  chat:
    type: webhook
    url_file: /run/secrets/chat
  maintainers:
    type: github
    mention: ["@org/maintainers"]
`
	got, err := ParseServerConfig([]byte(give))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.NeedsTriage.Label = "triage"
	if diff := cmp.Diff(want, got.Defaults); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	var chat struct {
		Type    string `yaml:"type"`
		URLFile string `yaml:"url_file"`
	}
	node := got.Channels["chat"].Node
	if err := node.Decode(&chat); err != nil {
		t.Fatal(err)
	}
	if chat.Type != "webhook" || chat.URLFile != "/run/secrets/chat" || got.Channels["chat"].Line != 4 || got.Channels["maintainers"].Type != "github" {
		t.Errorf("channels = %+v, chat = %+v", got.Channels, chat)
	}

	_, err = ParseServerConfig([]byte("defaults:\n  priority: {enabled: 1}\nchannels:\n  chat: {type: pigeon}\n  mail: {host: x}\nroutes: []\n"))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ConfigError", err)
	}
	wantErrs := []FieldError{
		{Line: 2, Path: "defaults.priority.enabled", Msg: `expected true or false, got a number`},
		{Line: 4, Path: "channels.chat.type", Msg: `must be one of github, webhook, email, got "pigeon"`},
		{Line: 4, Path: "channels.chat", Msg: "a channel needs a type (github, webhook, email)"},
		{Line: 5, Path: "channels.mail", Msg: "a channel needs a type (github, webhook, email)"},
		{Line: 6, Path: "routes", Msg: "unknown key (known: channels, defaults)"},
	}
	if diff := cmp.Diff(wantErrs, ce.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	data, err := json.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var got Config
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(DefaultConfig(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzParseConfig: decoding never panics, a failure gives back the base and names lines, and a
// success is a configuration that survives a YAML round trip.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(designDefaults))
	f.Add([]byte("priority:\n  levels:\n    - {label: P1, at: 5}\n"))
	f.Add([]byte("code_of_conduct: {patterns: ['(a|b', 'x']}\n"))
	f.Add([]byte("commands: {permissions: {close: triage}}\nnotifications: {routes: [{on: untriaged, after: 1h, to: [a]}]}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("- [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		base := DefaultConfig()
		got, err := ParseConfig(base, data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || len(ce.Errors) == 0 {
				t.Fatalf("err = %v, want a *ConfigError with errors", err)
			}
			if !cmp.Equal(base, got) {
				t.Fatal("a bad file changed the configuration")
			}
			return
		}
		out, err := yaml.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseConfig(DefaultConfig(), out)
		if err != nil {
			t.Fatalf("a parsed configuration does not parse again: %v\n%s", err, out)
		}
		if !cmp.Equal(got, again) {
			t.Fatalf("round trip changed the configuration:\n%s", cmp.Diff(got, again))
		}
	})
}
