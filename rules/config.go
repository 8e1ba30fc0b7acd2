package rules

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
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
}

// NeedsTriageConfig configures the needs-triage rule.
type NeedsTriageConfig struct {
	Enabled bool   `yaml:"enabled" json:"enabled"`
	Label   string `yaml:"label" json:"label"`
	// NotTriageLabels are regular expressions matched against whole label names, any case:
	// adding such a label is not triage.
	NotTriageLabels []string `yaml:"not_triage_labels" json:"not_triage_labels"`
	RemoveOnAssign  bool     `yaml:"remove_on_assign" json:"remove_on_assign"`
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
				"notify": "anyone", "help": "anyone", "why": "anyone",
			},
			AnyoneMayLabel: []string{},
		},
		Notifications: NotificationsConfig{Routes: []Route{}},
	}
}

// clone deep-copies c, so that overlaying a file never writes into the base's slices or maps.
func (c Config) clone() Config {
	out := c
	out.NeedsTriage.NotTriageLabels = slices.Clone(c.NeedsTriage.NotTriageLabels)
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

// ParseConfig overlays one configuration file (server defaults, the organisation's
// .github/triagebot.yml, then the repository's) on base, key by key: a key the file does not
// name keeps base's value; a list the file names replaces base's list; permissions are
// overridden command by command. The file is decoded strictly: on any problem ParseConfig
// returns base unchanged and a *ConfigError listing every problem with its line.
func ParseConfig(base Config, data []byte) (Config, error) {
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
		return nil, &ConfigError{Errors: []FieldError{syntaxError(err)}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &ConfigError{Errors: []FieldError{{Line: extra.Line, Msg: "only one YAML document is allowed"}}}
	} else if !errors.Is(err, io.EOF) {
		return nil, &ConfigError{Errors: []FieldError{syntaxError(err)}}
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

func syntaxError(err error) FieldError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return FieldError{Line: line, Msg: m[2]}
	}
	return FieldError{Msg: strings.TrimPrefix(msg, "yaml: ")}
}
