package handlers_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

type pushRecorder struct{ calls [][]string }

func (p *pushRecorder) Pushed(_ context.Context, _ int64, owner, repo string, paths []string) ([]string, error) {
	p.calls = append(p.calls, append([]string{owner + "/" + repo}, paths...))
	return nil, nil
}

func TestWorkerTellsTheConfigWatcherOfPushesToTheDefaultBranch(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	push := func(edit func(m map[string]any)) queue.Message {
		var m map[string]any
		if err := json.Unmarshal(payload(t, "push/with-new-branch.json"), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		body, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return queue.Message{Event: "push", DeliveryID: "p", Body: body, Attempt: 1}
	}
	many := func(m map[string]any) {
		c := m["commits"].([]any)[0]
		commits := make([]any, 20)
		for i := range commits {
			commits[i] = c
		}
		m["commits"] = commits
	}
	tests := []struct {
		name string
		give queue.Message
		want [][]string
	}{
		{"default branch: its paths", push(func(map[string]any) {}), [][]string{{"Codertocat/Hello-World", "README.md"}}},
		{"20 commits: GitHub may have left some out", push(many), [][]string{
			append(append([]string{"Codertocat/Hello-World"}, slices.Repeat([]string{"README.md"}, 20)...), handlers.PushTruncated)}},
		{"another branch: nothing", push(func(m map[string]any) { m["ref"] = "refs/heads/feature" }), nil},
		{"a deleted ref: nothing", push(func(m map[string]any) { m["deleted"] = true }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &pushRecorder{}
			w, err := handlers.NewWorker(handlers.WorkerConfig{
				Executor: handlers.DryRunExecutor{}, Config: handlers.StaticConfig(rules.DefaultConfig()),
				Store: q, ConfigWatcher: rec,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Handle(context.Background(), tt.give); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rec.calls); diff != "" {
				t.Fatalf("pushes reported (-want +got):\n%s", diff)
			}
		})
	}
}
