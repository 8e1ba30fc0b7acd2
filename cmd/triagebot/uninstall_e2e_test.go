package main

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
)

// keys lists a bucket's keys.
func keys(t *testing.T, kv jetstream.KeyValue) []string {
	t.Helper()
	l, err := kv.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range l.Keys() {
		out = append(out, k)
	}
	return out
}

// TestUninstallForgetsTheRepository (issue 12 §5): removing a repository from the installation,
// and uninstalling the App, delete the bot's memory of the repository, its cached configuration
// and its timers; the other repository keeps its own until the App is uninstalled.
func TestUninstallForgetsTheRepository(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	const gone, kept = "octo-org/rocket", "octo-org/probe"
	inst, err := l.Fake.InstallApp("octo-org", gone, kept)
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{gone, kept} {
		if err := l.Fake.PutFile(repo, ".github/triagebot.yml", []byte("notifications:\n  routes:\n    - {on: untriaged, after: 72h, to: [nowhere]}\n")); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, l)
	for _, repo := range []string{gone, kept} {
		if _, err := l.Fake.OpenIssue(repo, "alice", "Crash", "It crashes."); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, l)
	js := l.App.q.JetStream()
	memory, config := len(keys(t, l.App.q.MemoryBucket())), len(keys(t, l.App.q.ConfigBucket()))
	if memory == 0 || config == 0 || queuetest.Msgs(t, js, handlers.TimersStream) != 2 {
		t.Fatalf("before: %d memory keys, %d configuration keys, %d timers", memory, config, queuetest.Msgs(t, js, handlers.TimersStream))
	}

	if err := l.Fake.RemoveRepository(inst, gone); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	if n := queuetest.Msgs(t, js, handlers.TimersStream); n != 1 {
		t.Errorf("%d timers after removing %s, want the other repository's 1", n, gone)
	}
	afterMemory, afterConfig := len(keys(t, l.App.q.MemoryBucket())), len(keys(t, l.App.q.ConfigBucket()))
	if afterMemory >= memory || afterConfig >= config || afterMemory == 0 {
		t.Errorf("memory keys %d → %d, configuration keys %d → %d: want fewer, the other repository's kept", memory, afterMemory, config, afterConfig)
	}

	if err := l.Fake.Uninstall(inst); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	for _, k := range keys(t, l.App.q.MemoryBucket()) {
		if strings.HasPrefix(k, "issue.") || strings.HasPrefix(k, "repo.") || strings.HasPrefix(k, "installation.") {
			t.Errorf("memory key left after uninstalling: %s", k)
		}
	}
	for _, k := range keys(t, l.App.q.ConfigBucket()) {
		t.Errorf("configuration key left after uninstalling: %s", k)
	}
	if n := queuetest.Msgs(t, js, handlers.TimersStream); n != 0 {
		t.Errorf("%d timers left after uninstalling", n)
	}
}
