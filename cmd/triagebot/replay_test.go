package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/rules"
)

func webhook(event, file string) string {
	return filepath.Join("..", "..", "testdata", "webhooks", event, file)
}

func TestReplay(t *testing.T) {
	dir := t.TempDir()
	offConfig := filepath.Join(dir, "off.yml")
	if err := os.WriteFile(offConfig, []byte("needs_triage:\n  enabled: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	otherLabel := filepath.Join(dir, "label.yml")
	if err := os.WriteFile(otherLabel, []byte("needs_triage: {label: triage/needed}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badConfig := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(badConfig, []byte("needs_triage:\n  lable: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		give       []string
		wantStdout string
		wantStderr string
		wantCode   int
	}{
		{
			name:       "opened",
			give:       []string{"issues", webhook("issues", "opened.json")},
			wantStdout: `{"rule":"needs-triage","type":"add_labels","repo":"Codertocat/Hello-World","number":1,"labels":["needs-triage"],"reason":"new issue: waiting for a maintainer to triage it"}` + "\n",
		},
		{
			name:       "with a configuration, flag first",
			give:       []string{"--config", otherLabel, "issues", webhook("issues", "opened.json")},
			wantStdout: `{"rule":"needs-triage","type":"add_labels","repo":"Codertocat/Hello-World","number":1,"labels":["triage/needed"],"reason":"new issue: waiting for a maintainer to triage it"}` + "\n",
		},
		{name: "a rule switched off: nothing", give: []string{"issues", webhook("issues", "opened.json"), "--config", offConfig}},
		{name: "no rule acts: nothing", give: []string{"issue_comment", webhook("issue_comment", "created.json")}},
		{name: "an event the rules ignore", give: []string{"push", webhook("push", "payload.json")}},
		{name: "the bot's own event", give: []string{"--bot", "Codertocat", "issues", webhook("issues", "opened.json")}},
		{
			name: "an issue_comment payload given as issues", give: []string{"issues", webhook("issue_comment", "created.json")},
			wantStderr: `payload is not an "issues" event: it has a "comment" field`, wantCode: 1,
		},
		{
			name: "an issues payload given as issue_comment", give: []string{"issue_comment", webhook("issues", "opened.json")},
			wantStderr: `payload is not a "issue_comment" event: it has no "comment" field`, wantCode: 1,
		},
		{
			name: "a push payload given as issues", give: []string{"issues", webhook("push", "payload.json")},
			wantStderr: `payload is not a "issues" event: it has no "action" field`, wantCode: 1,
		},
		{name: "unknown event", give: []string{"nonsense", webhook("issues", "opened.json")}, wantStderr: "unknown X-Github-Event", wantCode: 1},
		{name: "missing file", give: []string{"issues", filepath.Join(dir, "none.json")}, wantStderr: "no such file", wantCode: 1},
		{name: "not JSON", give: []string{"issues", offConfig}, wantStderr: "not a JSON object", wantCode: 1},
		{name: "bad configuration", give: []string{"issues", webhook("issues", "opened.json"), "--config", badConfig}, wantStderr: "bad.yml:2: needs_triage.lable: unknown key", wantCode: 1},
		{name: "missing arguments", give: []string{"issues"}, wantStderr: `expected "<payload>" (see 'triagebot replay --help')`, wantCode: 2},
		{name: "unknown flag", give: []string{"--frobnicate", "issues", "x"}, wantStderr: "unknown flag --frobnicate", wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"replay"}, tt.give...), &stdout, &stderr)
			code := exitCode(err, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d (err %v)", code, tt.wantCode, err)
			}
			if diff := cmp.Diff(tt.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if tt.wantStderr == "" && stderr.Len() > 0 && tt.wantCode == 0 {
				t.Errorf("stderr = %q, want nothing", stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

// TestReplayJSONLines: every line is one Action, decodable as the contract says.
func TestReplayJSONLines(t *testing.T) {
	file := editedPayload(t, "issue_comment", "created.json", func(m map[string]any) {
		m["comment"].(map[string]any)["body"] = "shut up, you idiot & <go away>"
		m["issue"].(map[string]any)["comments"] = 3
	})
	var stdout bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"replay", "issue_comment", file}, &stdout, io.Discard), io.Discard); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	var types []rules.ActionType
	for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		var a rules.Action
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if a.Rule == "" || a.Reason == "" || a.Repo != "Codertocat/Hello-World" || a.Number != 1 {
			t.Errorf("incomplete action %q", line)
		}
		types = append(types, a.Type)
	}
	if diff := cmp.Diff([]rules.ActionType{rules.AddLabels, rules.Comment, rules.Notify}, types); diff != "" {
		t.Errorf("action types (-want +got):\n%s", diff)
	}
}

// editedPayload writes a copy of a sample payload, changed by edit, and gives its path.
func editedPayload(t *testing.T, event, name string, edit func(m map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(webhook(event, name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
