package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemoPlaysTheScenario(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"demo"}, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	out := stdout.String()
	for _, want := range []string{
		`added "needs-triage": new issue`,
		`commented "Welcome, @alice`,
		`added "priority: low"`,
		`added "priority: medium"`,
		`added "priority: high"`,
		`commented "@mallory, please keep the discussion here friendly`,
		`removed "needs-triage": @maya labelled the issue "enhancement"`,
		"assigned maya",
		"Final state of octo-org/rocket#1: labels [priority: high, enhancement], assignees [maya]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "Welcome, @alice") != 1 {
		t.Errorf("welcome shown more than once:\n%s", out)
	}
}

func TestDemoRefusesArguments(t *testing.T) {
	var stderr bytes.Buffer
	code := exitCode(run(context.Background(), []string{"demo", "now"}, &bytes.Buffer{}, &stderr), &stderr)
	if code != 2 || !strings.Contains(stderr.String(), `unexpected argument now`) {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
