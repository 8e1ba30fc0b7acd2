package main

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestAppManifest: the App asks for what the bot does (issue 12 §5): issues and pull requests
// written through the Issues API (a pull request's labels, comments, assignees and state need the
// Pull requests permission), configuration files read, the events the receiver stores.
func TestAppManifest(t *testing.T) {
	data, err := os.ReadFile("../../deploy/github-app-manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Permissions map[string]string `json:"default_permissions"`
		Events      []string          `json:"default_events"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"issues": "write", "pull_requests": "write", "contents": "read", "metadata": "read"} {
		if m.Permissions[p] != want {
			t.Errorf("permission %s is %q, want %q", p, m.Permissions[p], want)
		}
	}
	for _, e := range []string{"issues", "issue_comment", "push"} {
		if !slices.Contains(m.Events, e) {
			t.Errorf("event %s not subscribed: %v", e, m.Events)
		}
	}
}
