package rules

import (
	"context"
)

// Event is one GitHub webhook event: its X-GitHub-Event name and the payload decoded by
// go-github's ParseWebHook (*github.IssuesEvent, *github.IssueCommentEvent, ...).
type Event struct {
	Name       string
	DeliveryID string
	Payload    any
}

// Lookup gives the rules read-only access to state the payload cannot give. The worker backs
// it with GitHub (each answer fetched at most once per event); tests use a plain struct.
type Lookup interface {
	// CodeOfConductURL is the repository's (else the organisation's) CODE_OF_CONDUCT.md, or "".
	CodeOfConductURL(ctx context.Context) (string, error)
	// Permission is the user's permission on the repository: admin, maintain, write, triage, read or none.
	Permission(ctx context.Context, login string) (string, error)
}

// Input is everything a decision may depend on.
type Input struct {
	Event    Event
	Config   Config
	Memory   Memory     // the bot's memory of this issue
	Repo     RepoMemory // the bot's memory of this repository
	BotLogin string     // the App's bot user, e.g. "triagebot[bot]": its events trigger nothing
	Lookup   Lookup     // may be nil: rules then act on the payload alone
}

// Outcome is the decision: the actions, and the memory as it should be once they are done.
type Outcome struct {
	Actions []Action
	Memory  Memory
	Repo    RepoMemory
}

// Memory is the bot's memory of one issue (DESIGN.md §4), stored by the worker as JSON.
type Memory struct {
	BotLabels []string `json:"bot_labels,omitempty"` // labels the bot put on the issue
}

// RepoMemory is the bot's memory of one repository.
type RepoMemory struct {
	Authors []string `json:"authors,omitempty"` // users who opened an issue here before
}

// Config is a repository's effective configuration (DESIGN.md §5).
type Config struct {
	NeedsTriage NeedsTriageConfig `yaml:"needs_triage" json:"needs_triage"`
}

// NeedsTriageConfig configures the needs-triage rule.
type NeedsTriageConfig struct {
	Enabled bool   `yaml:"enabled" json:"enabled"`
	Label   string `yaml:"label" json:"label"`
}

// DefaultConfig is the configuration of a repository that has no file.
func DefaultConfig() Config {
	return Config{NeedsTriage: NeedsTriageConfig{Enabled: true, Label: "needs-triage"}}
}

// Evaluate decides what the bot does about one event. An error comes only from Lookup.
func Evaluate(ctx context.Context, in Input) (Outcome, error) {
	out := Outcome{Memory: in.Memory, Repo: in.Repo}
	out.Actions = append(out.Actions, needsTriage(in)...)
	return out, nil
}
