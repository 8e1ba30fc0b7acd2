package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// deadLetterOne leaves one dead letter in a data directory and stops the server.
func deadLetterOne(t *testing.T) string {
	t.Helper()
	s := queuetest.Start(t, "")
	ctx := context.Background()
	q, err := queue.Setup(ctx, s.JS, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Publish(ctx, queue.Delivery{ID: "gone-wrong", Event: "issues", RepoID: 3, Number: 4, Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 1)
	c, err := q.Consume(ctx, func(context.Context, queue.Message) error {
		return queue.Permanent(errors.New("payload has no issue"))
	}, queue.ConsumeOptions{Observe: func(queue.Outcome) { done <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("not dead-lettered")
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	return s.Dir
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := exitCode(run(context.Background(), args, &stdout, &stderr), &stderr)
	return code, stdout.String(), stderr.String()
}

func TestDLQListRetryDrop(t *testing.T) {
	dir := deadLetterOne(t)
	t.Setenv("TRIAGEBOT_DATA_DIR", dir)

	code, out, errOut := runCmd(t, "dlq", "list")
	if code != 0 || !strings.Contains(out, "gone-wrong") || !strings.Contains(out, "payload has no issue") || !strings.Contains(out, "SEQ") {
		t.Fatalf("list: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runCmd(t, "dlq", "retry", "x"); code != 2 || !strings.Contains(errOut, `"x" is not a dead letter's sequence number`) {
		t.Fatalf("retry x: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "dlq", "drop"); code != 2 || !strings.Contains(errOut, `expected "<seq> ..." (see 'triagebot dlq drop --help')`) {
		t.Fatalf("drop: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "dlq", "purge"); code != 2 || !strings.Contains(errOut, "unexpected argument purge") {
		t.Fatalf("purge: exit %d %s", code, errOut)
	}
	if code, out, errOut := runCmd(t, "dlq", "retry", "all"); code != 0 || out != "requeued 1\n" {
		t.Fatalf("retry all: exit %d %q %s", code, out, errOut)
	}
	if code, out, _ := runCmd(t, "dlq", "list"); code != 0 || out != "no dead letters\n" {
		t.Fatalf("list after retry: exit %d %q", code, out)
	}
	if code, _, errOut := runCmd(t, "dlq", "drop", "1"); errOut != "triagebot: dlq drop: there is no dead letter 1 (see 'triagebot dlq list')\n" || code != 1 {
		t.Fatalf("drop a retried one: exit %d %s", code, errOut)
	}

	// The event is back on its partition for the workers.
	s := queuetest.Start(t, dir)
	q, err := queue.Setup(context.Background(), s.JS, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan queue.Message, 1)
	c, err := q.Consume(context.Background(), func(_ context.Context, m queue.Message) error { got <- m; return nil }, queue.ConsumeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	select {
	case m := <-got:
		if m.DeliveryID != "gone-wrong" || m.RepoID != 3 || m.Number != 4 {
			t.Fatalf("requeued message %+v", m)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the retried event was not delivered")
	}
}

func TestDLQRefusesADataDirectoryInUse(t *testing.T) {
	s := queuetest.Start(t, "")
	t.Setenv("TRIAGEBOT_DATA_DIR", s.Dir)
	code, _, errOut := runCmd(t, "dlq", "list")
	if code != 2 || !strings.Contains(errOut, "in use by another triagebot process") || !strings.Contains(errOut, "stop it first") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// A command that reads a store never creates one.
func TestDLQWithoutAStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "triagebot-data")
	t.Setenv("TRIAGEBOT_DATA_DIR", dir)
	code, out, errOut := runCmd(t, "dlq", "list")
	want := "triagebot: TRIAGEBOT_DATA_DIR: no triagebot store in " + dir + " (set TRIAGEBOT_DATA_DIR to the directory 'triagebot serve' uses)\n"
	if code != 2 || out != "" || errOut != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dlq list created %s: %v", dir, err)
	}
}
