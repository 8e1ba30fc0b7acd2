package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// A signed issues delivery without an issue object once crashed the worker with a nil pointer,
// was never acknowledged and crashed every restart. Through the real receiver and queue it is
// dead-lettered with a reason, and the events after it are handled.
func TestWorkerSurvivesAnIssuesPayloadWithoutAnIssue(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	_, srv := newReceiver(t, q)
	for _, d := range []delivery{
		{event: "issues", id: "empty", body: []byte(`{}`)},
		{event: "issues", id: "no-issue", body: []byte(`{"action":"opened","repository":{"id":7,"name":"r","owner":{"login":"o"}}}`)},
		{event: "issue_comment", id: "no-issue-comment", body: []byte(`{"action":"created","comment":{"body":"/label x"}}`)},
		{event: "issues", id: "good", body: payload(t, "issues/opened.json")},
	} {
		if code, body := post(t, srv.URL, d); code != 202 {
			t.Fatalf("%s: %d %s", d.id, code, body)
		}
	}
	// The crash needed an untriaged route: its scheduling read the issue without checking it.
	w, _ := untriagedWorker(t, q)
	outcomes := make(chan queue.Outcome, 8)
	c, err := q.Consume(ctx, w.Handle, queue.ConsumeOptions{Observe: func(o queue.Outcome) { outcomes <- o }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(ctx)
	got := map[string]queue.Outcome{}
	for len(got) < 4 {
		select {
		case o := <-outcomes:
			got[o.Message.DeliveryID] = o
		case <-time.After(20 * time.Second):
			t.Fatalf("outcomes so far: %v", got)
		}
	}
	for _, id := range []string{"empty", "no-issue", "no-issue-comment"} {
		if o := got[id]; o.Result != "dead_lettered" || !strings.Contains(o.Err.Error(), "payload has no issue") {
			t.Errorf("%s: %s (%v), want dead_lettered: payload has no issue", id, o.Result, o.Err)
		}
	}
	if o := got["good"]; o.Result != "acked" {
		t.Errorf("good: %s (%v), want acked", o.Result, o.Err)
	}
}
