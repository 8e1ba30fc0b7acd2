package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

const testSecret = "e2e-secret"

// recordingExecutor records every call the worker makes, in order.
type recordingExecutor struct {
	mu    sync.Mutex
	calls []execCall
	wake  chan struct{}
	// gate, when set, is called before recording and may block; after, after recording.
	gate, after func(t rules.Target)
}

type execCall struct {
	Target  rules.Target
	Actions []rules.Action
}

func newRecorder() *recordingExecutor { return &recordingExecutor{wake: make(chan struct{}, 1)} }

func (r *recordingExecutor) Execute(ctx context.Context, t rules.Target, actions []rules.Action) ([]rules.Result, error) {
	if r.gate != nil {
		r.gate(t)
	}
	r.mu.Lock()
	r.calls = append(r.calls, execCall{t, actions})
	r.mu.Unlock()
	if r.after != nil {
		r.after(t)
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	res := make([]rules.Result, len(actions))
	for i, a := range actions {
		res[i] = rules.Result{Action: a, Status: rules.StatusDone}
	}
	return res, nil
}

func (r *recordingExecutor) snapshot() []execCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]execCall(nil), r.calls...)
}

// waitFor polls cond until it holds or the deadline passes.
func (r *recordingExecutor) waitFor(t *testing.T, what string, cond func([]execCall) bool) []execCall {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		calls := r.snapshot()
		if cond(calls) {
			return calls
		}
		select {
		case <-r.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; %d calls so far", what, len(calls))
		}
	}
}

func startTestApp(t *testing.T, exec *recordingExecutor) *app {
	t.Helper()
	s := defaultSettings()
	s.Listen = "127.0.0.1:0"
	s.AdminListen = ""
	s.DataDir = t.TempDir()
	s.Secrets = []string{testSecret}
	s.ShutdownTimeout = 5 * time.Second
	a, err := start(context.Background(), "serve", s, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), startOptions{executor: exec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return a
}

// webhookBody is a real payload from testdata with the issue number (and more) changed.
func webhookBody(t testing.TB, path string, edit func(m map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "webhooks", path))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func withIssue(number int) func(map[string]any) {
	return func(m map[string]any) { m["issue"].(map[string]any)["number"] = number }
}

func postDelivery(t testing.TB, base, event, id string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+base+"/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func TestEndToEndIssueOpenedGetsNeedsTriage(t *testing.T) {
	rec := newRecorder()
	a := startTestApp(t, rec)
	body := webhookBody(t, "issues/opened.json", nil)
	for i := 0; i < 2; i++ { // GitHub's redelivery reuses the delivery id
		if status := postDelivery(t, a.addr, "issues", "delivery-1", body); status != http.StatusAccepted {
			t.Fatalf("POST %d: status %d", i, status)
		}
	}
	// A second, different delivery proves the first was not handled twice: both are in the
	// same partition, so once the second is handled the first cannot still be pending.
	reopened := webhookBody(t, "issues/reopened.json", func(m map[string]any) {
		m["issue"].(map[string]any)["number"] = 1
		m["repository"] = json.RawMessage(mustJSON(t, mustMap(t, body)["repository"]))
	})
	if status := postDelivery(t, a.addr, "issues", "delivery-2", reopened); status != http.StatusAccepted {
		t.Fatalf("status %d", status)
	}
	calls := rec.waitFor(t, "both deliveries", func(c []execCall) bool { return len(c) >= 2 })
	var ids []string
	for _, c := range calls {
		ids = append(ids, c.Target.DeliveryID)
	}
	if diff := cmp.Diff([]string{"delivery-1", "delivery-2"}, ids); diff != "" {
		t.Fatalf("deliveries handled (-want +got):\n%s", diff)
	}
	want := []rules.Action{{
		Rule: "needs-triage", Type: rules.AddLabels, Repo: "Codertocat/Hello-World", Number: 1,
		Labels: []string{"needs-triage"},
	}}
	if diff := cmp.Diff(want, calls[0].Actions, ignoreReason); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	if calls[0].Target.InstallationID != 0 || calls[0].Target.RepoID != 186853002 || calls[0].Target.Number != 1 {
		t.Fatalf("target %+v", calls[0].Target)
	}
}

var ignoreReason = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Reason" }, cmp.Ignore())

func mustMap(t testing.TB, b []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Events of one issue are handled in the order they were received, while other issues'
// events proceed in parallel: the first event of issue A is held until issue B's events have
// all been handled, which could not happen if partitions were served one at a time.
func TestEndToEndOrderPerIssueParallelAcrossIssues(t *testing.T) {
	const repoID = 186853002
	issueA := 1
	issueB := 2
	for queue.Partition(repoID, issueB, 16) == queue.Partition(repoID, issueA, 16) {
		issueB++
	}
	const n = 50
	bDone := make(chan struct{})
	var once sync.Once
	rec := newRecorder()
	var mu sync.Mutex
	bSeen := 0
	rec.gate = func(t rules.Target) {
		if t.Number == issueA {
			<-bDone
		}
	}
	rec.after = func(t rules.Target) {
		if t.Number == issueB {
			mu.Lock()
			bSeen++
			if bSeen == 5 {
				once.Do(func() { close(bDone) })
			}
			mu.Unlock()
		}
	}
	a := startTestApp(t, rec)
	for i := 0; i < n; i++ {
		body := webhookBody(t, "issue_comment/created.json", func(m map[string]any) {
			withIssue(issueA)(m)
			m["comment"].(map[string]any)["body"] = fmt.Sprint(i)
		})
		if status := postDelivery(t, a.addr, "issue_comment", fmt.Sprintf("a-%02d", i), body); status != http.StatusAccepted {
			t.Fatalf("status %d", status)
		}
	}
	for i := 0; i < 5; i++ {
		body := webhookBody(t, "issue_comment/created.json", withIssue(issueB))
		if status := postDelivery(t, a.addr, "issue_comment", fmt.Sprintf("b-%02d", i), body); status != http.StatusAccepted {
			t.Fatalf("status %d", status)
		}
	}
	calls := rec.waitFor(t, "all events", func(c []execCall) bool { return len(c) == n+5 })
	var gotA, want []string
	for i := 0; i < n; i++ {
		want = append(want, fmt.Sprintf("a-%02d", i))
	}
	firstA := -1
	lastB := -1
	for i, c := range calls {
		switch c.Target.Number {
		case issueA:
			gotA = append(gotA, c.Target.DeliveryID)
			if firstA < 0 {
				firstA = i
			}
		case issueB:
			lastB = i
		}
	}
	if diff := cmp.Diff(want, gotA); diff != "" {
		t.Fatalf("issue A order (-want +got):\n%s", diff)
	}
	if lastB > firstA {
		t.Fatalf("issue B finished at %d, after issue A started at %d: partitions not parallel", lastB, firstA)
	}
}
