package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/rules"
)

// replayCmd runs the rules on one payload, offline.
type replayCmd struct {
	Event   string `arg:"" help:"The X-GitHub-Event name: issues, issue_comment, ..."`
	Payload string `arg:"" placeholder:"PAYLOAD.json" help:"The delivery's body."`
	Config  string `placeholder:"FILE" help:"A .github/triagebot.yml to use instead of the defaults."`
	Bot     string `default:"triagebot[bot]" placeholder:"LOGIN" help:"The App's bot user, whose own events trigger nothing."`
	As      string `placeholder:"ROLE" help:"Answer permission lookups with this role: none, read, triage, write, maintain or admin (default: no lookups, as offline)."`
	Explain bool   `help:"Print, in words, what each rule made of the event and why it acted or not, instead of JSON lines."`
}

func (c *replayCmd) Help() string {
	return "Runs the triage rules on one webhook payload, with an empty memory and no network, and prints each action the bot would take as one JSON object per line. Prints nothing when no rule acts."
}

func (c *replayCmd) Run(ctx context.Context, o streams) error {
	event, file := c.Event, c.Payload
	var lookup rules.Lookup
	if c.As != "" {
		if !slices.Contains(roles, c.As) {
			return withExit(2, fmt.Errorf("--as: %q is not one of %s", c.As, strings.Join(roles, ", ")))
		}
		lookup = roleLookup(c.As)
	}

	cfg := rules.DefaultConfig()
	if c.Config != "" {
		data, err := os.ReadFile(c.Config)
		if err != nil {
			return withExit(1, fmt.Errorf("replay: %w", err))
		}
		if cfg, err = rules.ParseConfig(cfg, data); err != nil {
			printConfigErrors(o.stderr, c.Config, err)
			return withExit(1, fmt.Errorf("replay: %s is not a valid configuration: %w", c.Config, errSilent))
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return withExit(1, fmt.Errorf("replay: %w", err))
	}
	payload, err := decodeEvent(event, data)
	if err != nil {
		return withExit(1, fmt.Errorf("replay %s: %w", file, err))
	}
	whyNot := map[string][]string{}
	in := rules.Input{
		Event:    rules.Event{Name: event, DeliveryID: "replay", Payload: payload},
		Config:   cfg,
		BotLogin: c.Bot,
		Lookup:   lookup,
	}
	if c.Explain {
		in.Explain = func(rule, why string) { whyNot[rule] = append(whyNot[rule], why) }
	}
	out, err := rules.Evaluate(ctx, in)
	if err != nil {
		return withExit(1, fmt.Errorf("replay: %w", err))
	}
	if c.Explain {
		return explain(o.stdout, out.Actions, whyNot)
	}
	enc := json.NewEncoder(o.stdout)
	enc.SetEscapeHTML(false)
	for _, a := range out.Actions {
		if err := enc.Encode(a); err != nil {
			return err
		}
	}
	return nil
}

// eventShapes are, per event this bot handles, the top-level keys a payload of that event
// always has and the actions it may carry. handlers.ParsePayload (as go-github's ParseWebHook) decodes any JSON object
// into any event type, so a payload of another event would otherwise pass unnoticed.
var eventShapes = map[string]struct {
	keys    []string
	actions []string
}{
	"issues": {[]string{"action", "issue"}, []string{"opened", "edited", "deleted", "pinned", "unpinned", "closed",
		"reopened", "assigned", "unassigned", "labeled", "unlabeled", "locked", "unlocked", "transferred",
		"milestoned", "demilestoned", "typed", "untyped"}},
	"issue_comment":             {[]string{"action", "issue", "comment"}, []string{"created", "edited", "deleted"}},
	"pull_request":              {[]string{"action", "pull_request"}, nil},
	"installation":              {[]string{"action", "installation"}, nil},
	"installation_repositories": {[]string{"action", "installation"}, []string{"added", "removed"}},
	"push":                      {[]string{"ref", "before", "after"}, nil},
	"ping":                      {[]string{"zen"}, nil},
}

// decodeEvent decodes a payload as the named event and checks it really is one.
func decodeEvent(event string, data []byte) (any, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	payload, err := handlers.ParsePayload(event, data)
	if err != nil {
		return nil, err
	}
	shape, ok := eventShapes[event]
	if !ok {
		return payload, nil
	}
	for _, k := range shape.keys {
		if v, ok := top[k]; !ok || string(v) == "null" {
			return nil, fmt.Errorf("payload is not a %q event: it has no %q field", event, k)
		}
	}
	if event == "issues" {
		if _, ok := top["comment"]; ok {
			return nil, errors.New(`payload is not an "issues" event: it has a "comment" field (an "issue_comment" payload?)`)
		}
	}
	if shape.actions != nil {
		var action string
		if err := json.Unmarshal(top["action"], &action); err != nil || !slices.Contains(shape.actions, action) {
			return nil, fmt.Errorf("payload is not a %q event: its action %s is not one of %s", event, top["action"], strings.Join(shape.actions, ", "))
		}
	}
	return payload, nil
}

// roles are GitHub's repository roles, weakest first.
var roles = []string{"none", "read", "triage", "write", "maintain", "admin"}

// roleLookup answers every permission lookup with one role, and knows no code of conduct.
type roleLookup string

func (r roleLookup) CodeOfConductURL(context.Context) (string, error) { return "", nil }
func (r roleLookup) Permission(context.Context, string) (string, error) {
	return string(r), nil
}

// explain prints, per rule in the order they run, the actions it took with their reasons, or
// why it took none.
func explain(w io.Writer, actions []rules.Action, whyNot map[string][]string) error {
	for _, rule := range rules.Rules {
		acted := false
		for _, a := range actions {
			if a.Rule == rule {
				acted = true
				fmt.Fprintf(w, "%s: %s: %s\n", rule, describe(a), a.Reason)
			}
		}
		if acted {
			continue
		}
		why := whyNot[rule]
		if len(why) == 0 {
			why = []string{"nothing in this event called for it"}
		}
		fmt.Fprintf(w, "%s: no action: %s\n", rule, strings.Join(slices.Compact(why), "; "))
	}
	return nil
}

// describe says what an action does, in a few words.
func describe(a rules.Action) string {
	switch a.Type {
	case rules.AddLabels:
		return "adds " + quoteAll(a.Labels)
	case rules.RemoveLabel:
		return "removes " + quoteAll([]string{a.Label})
	case rules.Comment:
		text := []rune(strings.Join(strings.Fields(a.Body), " "))
		if len(text) > 200 {
			text = append(text[:199], '…')
		}
		return fmt.Sprintf("comments %q", string(text))
	case rules.React:
		return "reacts " + a.Content
	case rules.Assign:
		return "assigns @" + strings.Join(a.Assignees, ", @")
	case rules.Unassign:
		return "unassigns @" + strings.Join(a.Assignees, ", @")
	case rules.Close:
		return "closes the issue (" + a.StateReason + ")"
	case rules.Reopen:
		return "reopens the issue"
	case rules.Notify:
		return "notifies the " + a.Channel + " route"
	}
	return string(a.Type)
}
