package rules

// ActionType is one of the small, closed set of things the bot can do (DESIGN.md §5).
type ActionType string

// The action kinds. Their string values are what `triagebot replay` prints.
const (
	AddLabels   ActionType = "add_labels"
	RemoveLabel ActionType = "remove_label"
	Comment     ActionType = "comment"
	React       ActionType = "react"
	Assign      ActionType = "assign"
	Unassign    ActionType = "unassign"
	Close       ActionType = "close"
	Reopen      ActionType = "reopen"
	Notify      ActionType = "notify"
	Lock        ActionType = "lock"      // lock the conversation (LockReason)
	Unlock      ActionType = "unlock"    // unlock it
	EditBody    ActionType = "edit_body" // replace the body with Body
)

// Action is one decision of a rule. Only the fields its Type needs are set; Rule and Reason
// always are, so that every action can be explained to a maintainer (`/why`, the audit stream).
type Action struct {
	Rule   string     `json:"rule"`
	Type   ActionType `json:"type"`
	Repo   string     `json:"repo"` // owner/name
	Number int        `json:"number"`

	Labels []string `json:"labels,omitempty"` // add_labels
	Label  string   `json:"label,omitempty"`  // remove_label

	// Comment: Body is the text without the marker; Key makes the comment keyed: the executor
	// adds the hidden marker <!-- triagebot:RULE:KEY --> and edits an existing comment that
	// carries it instead of posting a second one.
	Body string `json:"body,omitempty"`
	Key  string `json:"key,omitempty"`

	CommentID int64  `json:"comment_id,omitempty"` // react: the comment reacted to (0: the issue)
	Content   string `json:"content,omitempty"`    // react: +1, -1, laugh, confused, heart, hooray, rocket, eyes

	Assignees   []string `json:"assignees,omitempty"`    // assign, unassign
	StateReason string   `json:"state_reason,omitempty"` // close: completed | not_planned

	// Notify: Channel names the route event (issue_opened, labeled, ...); Text is the message.
	Channel string `json:"channel,omitempty"`
	Text    string `json:"text,omitempty"`
	// Private: the notification must never be posted publicly (on GitHub): channels of type
	// github are skipped for it.
	Private bool `json:"private,omitempty"`

	LockReason string `json:"lock_reason,omitempty"` // lock: off-topic | too heated | resolved | spam

	Reason string `json:"reason"`
}

// Target says where an event's actions apply. It carries the numeric identities the queue and
// the GitHub App client need, which the actions themselves do not.
type Target struct {
	DeliveryID     string
	Event          string
	InstallationID int64
	RepoID         int64
	Owner          string
	Name           string
	Number         int
	// Private: the event says the repository is private (false when it does not say).
	Private bool
}

// FullName is owner/name.
func (t Target) FullName() string { return t.Owner + "/" + t.Name }

// Status says what became of an action.
type Status string

// The statuses an executor reports.
const (
	StatusDone    Status = "done"    // the change was made on GitHub
	StatusSkipped Status = "skipped" // nothing to do: the state already was as wanted
	StatusDryRun  Status = "dry_run" // recorded, not written (TRIAGEBOT_DRY_RUN)
	StatusFailed  Status = "failed"
)

// Result is what the executor did with one action; it goes to the audit stream.
type Result struct {
	Action    Action `json:"action"`
	Status    Status `json:"status"`
	Detail    string `json:"detail,omitempty"`
	CommentID int64  `json:"comment_id,omitempty"` // the bot comment created or edited
}
