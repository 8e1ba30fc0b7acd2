package statuspage_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/internal/statuspage"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, queuetest.LeakOptions()...)
}

// fakeConn is a connected client (the page only reads these).
type fakeConn struct{}

func (fakeConn) Status() nats.Status            { return nats.CONNECTED }
func (fakeConn) ConnectedUrlRedacted() string   { return "nats://127.0.0.1:4222" }
func (fakeConn) ConnectedClusterName() string   { return "" }
func (fakeConn) ConnectedServerName() string    { return "test" }
func (fakeConn) ConnectedServerVersion() string { return "2.15.2" }

// withAudit is a queue holding n audit records over 50 repositories, one issue each of 200.
func withAudit(tb testing.TB, n int) *queue.Queue {
	tb.Helper()
	q, _ := queuetest.Queue(tb, queue.Config{Partitions: 16})
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for i := range n {
		repo := fmt.Sprintf("org/repo-%d", i%50)
		rec := handlers.AuditRecord{Time: at.Add(time.Duration(i) * time.Second), DeliveryID: fmt.Sprintf("d-%d", i), Event: "issues",
			Repo: repo, Number: i % 200, Result: rules.Result{Status: rules.StatusDone,
				Action: rules.Action{Rule: rules.RuleNeedsTriage, Type: rules.AddLabels, Labels: []string{"needs-triage"}, Reason: "new issue: waiting for a maintainer"}}}
		if err := q.Audit(ctx, int64(i%50+1), i%200, rec); err != nil {
			tb.Fatal(err)
		}
	}
	return q
}

func newPage(tb testing.TB, q *queue.Queue, opts statuspage.Options) *statuspage.Handler {
	tb.Helper()
	h, err := statuspage.New(statuspage.Sources{Role: "serve", Queue: q, Conn: fakeConn{}, Partitions: 16}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func TestTokenIsAskedWhenSet(t *testing.T) {
	q := withAudit(t, 3)
	srv := httptest.NewServer(newPage(t, q, statuspage.Options{Token: "s3cret"}))
	defer srv.Close()
	tests := []struct {
		name string
		give func(r *http.Request)
		want int
	}{
		{"no token", func(*http.Request) {}, http.StatusUnauthorized},
		{"wrong password", func(r *http.Request) { r.SetBasicAuth("ops", "guess") }, http.StatusUnauthorized},
		{"basic authentication", func(r *http.Request) { r.SetBasicAuth("anyone", "s3cret") }, http.StatusOK},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cret") }, http.StatusOK},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer s3cre") }, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		tt.give(req)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, res.StatusCode, tt.want)
		}
		if tt.want == http.StatusUnauthorized && (!strings.Contains(string(body), "TRIAGEBOT_ADMIN_TOKEN") || res.Header.Get("WWW-Authenticate") == "") {
			t.Errorf("%s: the refusal does not say what is asked: %q", tt.name, body)
		}
	}
}

func TestFilterAndEscaping(t *testing.T) {
	q := withAudit(t, 120)
	h := newPage(t, q, statuspage.Options{})
	p := h.Collect(context.Background(), "ORG/Repo-7")
	if len(p.Actions) == 0 || p.Searched != 120 { // a filter searches the whole window
		t.Fatalf("%d actions of 120 searched", len(p.Actions))
	}
	for _, a := range p.Actions {
		if a.Repo != "org/repo-7" {
			t.Fatalf("filtered to org/repo-7, got %s", a.Repo)
		}
	}
	var b strings.Builder
	p.Filter = `"><script>alert(1)</script>`
	if err := h.Render(&b, p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") {
		t.Fatalf("the filter is not escaped")
	}
}

// BenchmarkStatusPage measures the page's queries and its rendering with 10,000 audit records
// (go test -run '^$' -bench StatusPage -benchtime 20x ./internal/statuspage/).
func BenchmarkStatusPage(b *testing.B) {
	q := withAudit(b, 10000)
	h := newPage(b, q, statuspage.Options{})
	ctx := context.Background()
	for _, filter := range []string{"", "org/repo-7"} {
		b.Run("collect/filter="+filter, func(b *testing.B) {
			var queries int
			for b.Loop() {
				p := h.Collect(ctx, filter)
				queries = p.Queries
			}
			b.ReportMetric(float64(queries), "jsrequests/op")
		})
	}
	p := h.Collect(ctx, "")
	b.Run("render", func(b *testing.B) {
		for b.Loop() {
			if err := h.Render(io.Discard, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
