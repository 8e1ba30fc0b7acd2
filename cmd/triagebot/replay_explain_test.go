package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files of the replay tests")

// replayOut runs replay and gives its stdout; the exit status must be 0.
func replayOut(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := exitCode(run(context.Background(), append([]string{"replay"}, args...), &stdout, &stderr), &stderr); code != 0 {
		t.Fatalf("replay %q: exit %d: %s", args, code, stderr.String())
	}
	return stdout.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// replay --explain says, for every sample payload, what each rule made of it and why.
func TestReplayExplainsEverySamplePayload(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "webhooks", "*", "*.json"))
	if err != nil || len(files) < 25 {
		t.Fatalf("%d sample payloads: %v", len(files), err)
	}
	var all strings.Builder
	for _, f := range files {
		event := filepath.Base(filepath.Dir(f))
		out := replayOut(t, "--explain", event, f)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) < 5 {
			t.Errorf("%s: %d lines, want one per rule at least:\n%s", f, len(lines), out)
		}
		if strings.Contains(out, "nothing in this event called for it") {
			t.Errorf("%s: a rule without its reason:\n%s", f, out)
		}
		all.WriteString("== " + event + " " + filepath.Base(f) + "\n" + out)
	}
	golden(t, "replay-explain.golden", all.String())
}

// replay --as answers the permission lookups, so a maintainer's command can be tried.
func TestReplayAs(t *testing.T) {
	file := editedPayload(t, "issue_comment", "created.json", func(m map[string]any) {
		m["comment"].(map[string]any)["body"] = "/label enhancement\n/assign @maria"
		m["comment"].(map[string]any)["author_association"] = "NONE"
		m["comment"].(map[string]any)["user"].(map[string]any)["login"] = "maria"
		m["sender"].(map[string]any)["login"] = "maria"
	})
	var all strings.Builder
	for _, role := range []string{"", "read", "triage"} {
		args := []string{"--explain", "issue_comment", file}
		if role != "" {
			args = append([]string{"--as", role}, args...)
		}
		all.WriteString("== --as " + role + "\n" + replayOut(t, args...))
	}
	golden(t, "replay-as.golden", all.String())

	var stderr bytes.Buffer
	code := exitCode(run(context.Background(), []string{"replay", "--as", "boss", "issue_comment", file}, &bytes.Buffer{}, &stderr), &stderr)
	if want := "triagebot: --as: \"boss\" is not one of none, read, triage, write, maintain, admin\n"; code != 2 || stderr.String() != want {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
	}
}
