package handlers_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// edited is a payload of testdata/webhooks with fields of its issue (and comment) replaced.
func edited(t *testing.T, file string, issue, comment map[string]any) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(payload(t, file), &p); err != nil {
		t.Fatal(err)
	}
	for k, v := range issue {
		p["issue"].(map[string]any)[k] = v
	}
	for k, v := range comment {
		p["comment"].(map[string]any)[k] = v
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPrivateNotificationsStayOffGitHub (issue 12 §5): in private conduct mode, and for the
// security-report guard, a route that names a github channel (which posts a comment on the
// issue, in public) does not get the notification; the others do.
func TestPrivateNotificationsStayOffGitHub(t *testing.T) {
	tests := []struct {
		name  string
		event string
		body  []byte
		cfg   func(*rules.Config)
		route string
	}{
		{
			name: "conduct, private", event: "issue_comment", route: rules.RouteConduct,
			body: edited(t, "issue_comment/created.json", nil, map[string]any{"body": "you are an idiot"}),
			cfg:  func(c *rules.Config) { c.CodeOfConduct.Reply = rules.ReplyPrivate },
		},
		{
			name: "security report", event: "issues", route: rules.RouteSecurity,
			body: edited(t, "issues/opened.json", map[string]any{"author_association": "NONE", "title": "Stored XSS in titles",
				"body": "An attacker can steal the session cookie of an admin."}, nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
			n := &fakeNotifier{channels: channels()}
			cfg := routed(rules.Route{On: tt.route, To: []string{"team", "ops"}})
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			w := notifyWorker(t, q, cfg, n, nil)
			m := message(t, tt.event, "issues/opened.json", "d-1")
			m.Body = tt.body
			if err := w.Handle(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range n.got {
				got = append(got, x.Channel)
			}
			if diff := cmp.Diff([]string{"ops"}, got); diff != "" {
				t.Errorf("channels notified (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"done: enqueued for ops; private, so not posted on GitHub through team"}, notifyAudit(t, q)); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
		})
	}
}
