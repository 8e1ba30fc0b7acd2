package handlers_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// fakeGrants answers Granted with one access for every installation and records the rest.
type fakeGrants struct {
	access  string
	refused []string
}

func (g *fakeGrants) Granted(context.Context, int64, string) (string, bool, error) {
	return g.access, true, nil
}
func (g *fakeGrants) Refused(_ int64, perm string) {
	g.refused, g.access = append(g.refused, perm), ""
}
func (g *fakeGrants) RenewToken(int64) {}

// notAccessible is GitHub's 403 "Resource not accessible by integration" as ghapp classifies it.
type notAccessible struct{}

func (notAccessible) Error() string       { return "403 Resource not accessible by integration" }
func (notAccessible) Permanent() bool     { return true }
func (notAccessible) NotAccessible() bool { return true }

func TestWorkerPullRequestsWithoutThePermission(t *testing.T) {
	tests := []struct {
		give      string
		file      string
		access    string
		execErr   error
		wantErr   bool
		wantCalls int
		wantNotes int
		refused   []string
	}{
		{give: "no permission: skipped before any action", file: "issue_comment/created.on-pull-request.json", access: "read", wantNotes: 1},
		{give: "granted: handled", file: "issue_comment/created.on-pull-request.json", access: "write", wantCalls: 2},
		{give: "granted, but GitHub refuses: the event is done, the permission no longer counted",
			file: "issue_comment/created.on-pull-request.json", access: "write", execErr: notAccessible{},
			wantCalls: 1, wantNotes: 1, refused: []string{"pull_requests"}},
		{give: "refused on an issue: permanent, as before", file: "issue_comment/created.json", access: "",
			execErr: notAccessible{}, wantErr: true, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
			ctx := context.Background()
			exec := &fakeExecutor{}
			grants := &fakeGrants{access: tt.access}
			w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: exec, Config: handlers.StaticConfig(rules.DefaultConfig()),
				Store: q, Grants: grants})
			if err != nil {
				t.Fatal(err)
			}
			var ev map[string]any
			if err := json.Unmarshal(payload(t, tt.file), &ev); err != nil {
				t.Fatal(err)
			}
			ev["comment"].(map[string]any)["body"] = "/help"
			body, _ := json.Marshal(ev)
			repoID := int64(ev["repository"].(map[string]any)["id"].(float64))
			for i, id := range []string{"d-1", "d-2"} { // the note is written once for the installation
				if tt.execErr != nil {
					exec.errs = []error{tt.execErr}
				}
				m := queue.Message{Event: "issue_comment", DeliveryID: id, InstallationID: 9, RepoID: repoID, Number: 1, Body: body, Attempt: 1}
				if err := w.Handle(ctx, m); (err != nil) != tt.wantErr || (err != nil && !queue.IsPermanent(err)) {
					t.Fatalf("event %d: err = %v, want error %v (permanent)", i, err, tt.wantErr)
				}
			}
			if len(exec.calls) != tt.wantCalls {
				t.Errorf("executor called %d times, want %d", len(exec.calls), tt.wantCalls)
			}
			trail, err := q.AuditTrail(ctx, repoID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			var notes int
			for _, raw := range trail {
				var rec handlers.AuditRecord
				if err := json.Unmarshal(raw, &rec); err != nil {
					t.Fatal(err)
				}
				if rec.Result.Action.Rule == handlers.RulePermissions {
					notes++
				}
			}
			if notes != tt.wantNotes {
				t.Errorf("%d audit notes, want %d", notes, tt.wantNotes)
			}
			if diff := cmp.Diff(tt.refused, grants.refused); diff != "" {
				t.Errorf("refused (-want +got):\n%s", diff)
			}
		})
	}
}
