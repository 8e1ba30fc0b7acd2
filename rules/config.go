package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/triagebot/triagebot/internal/yamlcheck"
)

// Config is a repository's effective configuration (DESIGN.md §5). It is plain data (JSON and
// YAML serialisable); regular expressions are kept as text and compiled by Evaluate.
type Config struct {
	NeedsTriage   NeedsTriageConfig   `yaml:"needs_triage" json:"needs_triage"`
	Priority      PriorityConfig      `yaml:"priority" json:"priority"`
	CodeOfConduct CodeOfConductConfig `yaml:"code_of_conduct" json:"code_of_conduct"`
	Commands      CommandsConfig      `yaml:"commands" json:"commands"`
	Notifications NotificationsConfig `yaml:"notifications" json:"notifications"`
	// Backfill: when the App is installed, the open issues it never saw get needs-triage and
	// their priority (no comments, no notifications).
	Backfill bool `yaml:"backfill" json:"backfill"`
	// Labels are created and kept up to date in the repository (see LabelConfig).
	Labels    []LabelConfig   `yaml:"labels,omitempty" json:"labels,omitempty"`
	Security  SecurityConfig  `yaml:"security" json:"security"`
	Lifecycle LifecycleConfig `yaml:"lifecycle" json:"lifecycle"`
	// Problems say why a configuration file was not used as written (broken, too large,
	// unreadable), set by the loader, never by a file: /why shows them.
	Problems []string `yaml:"-" json:"-"`
}

// SecurityConfig configures the security-report guard (issue 12 §1).
type SecurityConfig struct {
	Enabled         bool     `yaml:"enabled" json:"enabled"`
	Patterns        []string `yaml:"patterns" json:"patterns"` // regexes, any case: a match alone flags the issue
	BuiltinPatterns bool     `yaml:"builtin_patterns" json:"builtin_patterns"`
	Label           string   `yaml:"label" json:"label"` // "": no label
	Comment         bool     `yaml:"comment" json:"comment"`
	Notify          bool     `yaml:"notify" json:"notify"` // a private notification to routes on: security
	Lock            bool     `yaml:"lock" json:"lock"`
	// Redact replaces the body by a notice once its text went to a security route.
	Redact bool `yaml:"redact" json:"redact"`
}

// NeedsTriageConfig configures the needs-triage rule.
type NeedsTriageConfig struct {
	Enabled bool   `yaml:"enabled" json:"enabled"`
	Label   string `yaml:"label" json:"label"`
	// NotTriageLabels are regular expressions matched against whole label names, any case:
	// adding such a label is not triage.
	NotTriageLabels []string `yaml:"not_triage_labels" json:"not_triage_labels"`
	RemoveOnAssign  bool     `yaml:"remove_on_assign" json:"remove_on_assign"`
	// TriageBots are the logins of Apps and bots (sender type Bot) whose labels and assignments
	// count as triage; any other bot's (an auto-labeller's) do not.
	TriageBots []string `yaml:"triage_bots" json:"triage_bots"`
	// RemoveOnClose takes needs-triage off a closed issue (reopening puts it back).
	RemoveOnClose bool `yaml:"remove_on_close" json:"remove_on_close"`
}

// The priority scores.
const (
	ScoreComments             = "comments"
	ScoreParticipants         = "participants"
	ScoreCommentsAndReactions = "comments_and_reactions"
)

// PriorityConfig configures the priority-by-comment-count rule.
type PriorityConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// AppliesTo are label regular expressions (whole name, any case); empty: every open issue.
	AppliesTo []string `yaml:"applies_to" json:"applies_to"`
	Score     string   `yaml:"score" json:"score"` // comments | participants | comments_and_reactions
	// Levels are ordered from the highest threshold down; the first one the score reaches wins.
	Levels        []Level `yaml:"levels" json:"levels"`
	Hysteresis    int     `yaml:"hysteresis" json:"hysteresis"`
	RespectManual bool    `yaml:"respect_manual" json:"respect_manual"`
}

// Level is one priority level: its label, put on an issue whose score reaches At.
type Level struct {
	Label string `yaml:"label" json:"label"`
	At    int    `yaml:"at" json:"at"`
}

// Name is the level's short name, as a command would spell it: "priority: high" → "high".
func (l Level) Name() string {
	name := l.Label
	if i := strings.LastIndexAny(name, ":/"); i >= 0 {
		name = name[i+1:]
	}
	return strings.ToLower(strings.TrimSpace(name))
}

// The code-of-conduct reply modes.
const (
	ReplyPublic  = "public"
	ReplyPrivate = "private"
)

// CodeOfConductConfig configures the code-of-conduct rule.
type CodeOfConductConfig struct {
	Enabled          bool     `yaml:"enabled" json:"enabled"`
	URL              string   `yaml:"url" json:"url"` // empty: the repository's or organisation's CODE_OF_CONDUCT.md
	WelcomeFirstTime bool     `yaml:"welcome_first_time" json:"welcome_first_time"`
	Patterns         []string `yaml:"patterns" json:"patterns"` // regular expressions, any case, anywhere in the text
	BuiltinPatterns  bool     `yaml:"builtin_patterns" json:"builtin_patterns"`
	Reply            string   `yaml:"reply" json:"reply"` // public | private
}

// CommandsConfig configures comment commands (issue 5).
type CommandsConfig struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Permissions maps a command name to who may run it: anyone, author, triage, write,
	// maintain or admin. A file overrides it command by command.
	Permissions    map[string]string `yaml:"permissions" json:"permissions"`
	AnyoneMayLabel []string          `yaml:"anyone_may_label" json:"anyone_may_label"`
}

// NotificationsConfig configures maintainer notifications (issue 5).
type NotificationsConfig struct {
	Routes []Route `yaml:"routes" json:"routes"`
}

// Route sends the notifications of one event kind to named channels (defined server-side).
type Route struct {
	On    string   `yaml:"on" json:"on"`                           // issue_opened | labeled | priority_changed | conduct | notify_command | untriaged
	Label string   `yaml:"label,omitempty" json:"label,omitempty"` // labeled: only this label (any case); empty: any
	Level string   `yaml:"level,omitempty" json:"level,omitempty"` // priority_changed: only this level (name or label); empty: any
	After string   `yaml:"after,omitempty" json:"after,omitempty"` // untriaged: a Go duration such as 72h
	To    []string `yaml:"to" json:"to"`                           // channel names
}

// The route events, which are also the Channel of notify actions.
const (
	RouteIssueOpened     = "issue_opened"
	RouteLabeled         = "labeled"
	RoutePriorityChanged = "priority_changed"
	RouteConduct         = "conduct"
	RouteNotifyCommand   = "notify_command"
	RouteUntriaged       = "untriaged"
	RouteSecurity        = "security"
)

// Permission levels for commands, weakest first.
var permissionLevels = []string{"anyone", "author", "triage", "write", "maintain", "admin"}

// DefaultConfig is the configuration of a repository that has no file (DESIGN.md §5).
func DefaultConfig() Config {
	return Config{
		Backfill: true,
		NeedsTriage: NeedsTriageConfig{
			Enabled:         true,
			Label:           "needs-triage",
			NotTriageLabels: []string{"needs-triage", "priority: .*"},
			RemoveOnAssign:  true,
			TriageBots:      []string{},
			RemoveOnClose:   true,
		},
		Priority: PriorityConfig{
			Enabled:   true,
			AppliesTo: []string{},
			Score:     ScoreComments,
			Levels: []Level{
				{Label: "priority: high", At: 20},
				{Label: "priority: medium", At: 10},
				{Label: "priority: low", At: 3},
			},
			Hysteresis:    2,
			RespectManual: true,
		},
		CodeOfConduct: CodeOfConductConfig{
			Enabled:          true,
			WelcomeFirstTime: true,
			Patterns:         []string{},
			BuiltinPatterns:  true,
			Reply:            ReplyPublic,
		},
		Commands: CommandsConfig{
			Enabled: true,
			Permissions: map[string]string{
				"label": "triage", "remove-label": "triage", "priority": "triage",
				"triage": "triage", "needs-triage": "triage", "assign": "triage",
				"unassign": "triage", "close": "author", "reopen": "author", "coc": "triage",
				"notify": "anyone", "help": "anyone", "why": "anyone", "not-security": "triage", "self-assign": "anyone",
				"lifecycle": "triage", "remove-lifecycle": "anyone",
			},
			AnyoneMayLabel: []string{},
		},
		Notifications: NotificationsConfig{Routes: []Route{}},
		Lifecycle:     defaultLifecycle(),
		Security: SecurityConfig{
			Enabled: true, Patterns: []string{}, BuiltinPatterns: true, Label: "security-report",
			Comment: true, Notify: true,
		},
	}
}

// clone deep-copies c, so that overlaying a file never writes into the base's slices or maps.
func (c Config) clone() Config {
	out := c
	out.NeedsTriage.NotTriageLabels = slices.Clone(c.NeedsTriage.NotTriageLabels)
	out.NeedsTriage.TriageBots = slices.Clone(c.NeedsTriage.TriageBots)
	out.Priority.AppliesTo = slices.Clone(c.Priority.AppliesTo)
	out.Priority.Levels = slices.Clone(c.Priority.Levels)
	out.CodeOfConduct.Patterns = slices.Clone(c.CodeOfConduct.Patterns)
	out.Commands.AnyoneMayLabel = slices.Clone(c.Commands.AnyoneMayLabel)
	if c.Commands.Permissions != nil {
		out.Commands.Permissions = make(map[string]string, len(c.Commands.Permissions))
		for k, v := range c.Commands.Permissions {
			out.Commands.Permissions[k] = v
		}
	}
	out.Security.Patterns = slices.Clone(c.Security.Patterns)
	out.Lifecycle.ExemptLabels = slices.Clone(c.Lifecycle.ExemptLabels)
	out.Lifecycle.Rules = slices.Clone(c.Lifecycle.Rules)
	out.Problems = slices.Clone(c.Problems)
	out.Labels = slices.Clone(c.Labels)
	out.Notifications.Routes = slices.Clone(c.Notifications.Routes)
	for i := range out.Notifications.Routes {
		out.Notifications.Routes[i].To = slices.Clone(out.Notifications.Routes[i].To)
	}
	return out
}

// FieldError is one problem in a configuration file.
type FieldError = yamlcheck.FieldError

// ConfigError is every problem found in a configuration file. Callers print Errors one per line.
type ConfigError struct {
	Errors []FieldError
}

func (e *ConfigError) Error() string { return yamlcheck.Join("invalid configuration", e.Errors) }

// MaxConfigSize is the largest configuration file the bot reads (256 KiB): a bigger one is
// refused as a whole, as a broken file is (the last good version, else the defaults, is used).
const MaxConfigSize = 256 << 10

// TooLargeMessage is why a configuration file of size bytes is refused.
func TooLargeMessage(size int) string {
	return fmt.Sprintf("the file is %s; configuration files may be at most 256 KiB", byteSize(size))
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// ParseConfig overlays one configuration file (server defaults, the organisation's
// .github/triagebot.yml, then the repository's) on base, key by key: a key the file does not
// name keeps base's value; a list the file names replaces base's list; permissions are
// overridden command by command. The file is decoded strictly: on any problem ParseConfig
// returns base unchanged and a *ConfigError listing every problem with its line.
func ParseConfig(base Config, data []byte) (Config, error) {
	if len(data) > MaxConfigSize {
		return base, &ConfigError{Errors: []FieldError{{Msg: TooLargeMessage(len(data))}}}
	}
	root, err := parseDocument(data)
	if err != nil {
		return base, err
	}
	cfg := base.clone()
	if root == nil {
		return cfg, nil
	}
	d := &decoder{}
	d.config(root, "", &cfg)
	if len(d.errs) > 0 {
		return base, &ConfigError{Errors: d.errs}
	}
	return cfg, nil
}

// ServerConfig is the server-side file named by TRIAGEBOT_CONFIG.
type ServerConfig struct {
	// Defaults overlay DefaultConfig(); organisation and repository files overlay them in turn.
	Defaults Config
	// Channels are the notification channels routes may name (issue 5), by name.
	Channels map[string]Channel
}

// Channel is one notification channel. Only its type is checked here; Node keeps the whole
// mapping (with its line numbers) for internal/notify to decode strictly.
type Channel struct {
	Type string // github | webhook | email
	Line int
	Node yaml.Node
}

// The channel types.
var channelTypes = []string{"github", "webhook", "email"}

// ParseServerConfig decodes the server-side configuration file: top-level keys `defaults` (the
// schema of .github/triagebot.yml, overlaid on DefaultConfig()) and `channels`.
func ParseServerConfig(data []byte) (ServerConfig, error) {
	sc := ServerConfig{Defaults: DefaultConfig(), Channels: map[string]Channel{}}
	root, err := parseDocument(data)
	if err != nil || root == nil {
		return sc, err
	}
	d := &decoder{}
	d.mapping(root, "", map[string]func(*yaml.Node, string){
		"defaults": func(n *yaml.Node, p string) { d.config(n, p, &sc.Defaults) },
		"channels": func(n *yaml.Node, p string) { d.channels(n, p, sc.Channels) },
	})
	if len(d.errs) > 0 {
		return ServerConfig{Defaults: DefaultConfig(), Channels: map[string]Channel{}}, &ConfigError{Errors: d.errs}
	}
	return sc, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseDocument parses one YAML document into its top node; nil for an empty file.
func parseDocument(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, &ConfigError{Errors: []FieldError{syntaxError(err, data)}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &ConfigError{Errors: []FieldError{{Line: extra.Line, Msg: "only one YAML document is allowed"}}}
	} else if !errors.Is(err, io.EOF) {
		return nil, &ConfigError{Errors: []FieldError{syntaxError(err, data)}}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	return root, nil
}

// WithProblems is c with the problems of the files it was made from, for /why.
func (c Config) WithProblems(problems []error) Config {
	c.Problems = nil
	for _, p := range problems {
		c.Problems = append(c.Problems, p.Error())
	}
	return c
}
