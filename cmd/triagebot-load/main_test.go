package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, queuetest.LeakOptions()...)
}

const opened = "../../testdata/webhooks/issues/opened.json"

func receiver(t *testing.T, secret string) (*queue.Queue, string) {
	t.Helper()
	return receiverWith(t, secret)
}

func receiverWith(t *testing.T, secret string, opts ...handlers.ReceiverOption) (*queue.Queue, string) {
	t.Helper()
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 4})
	r, err := handlers.NewReceiver(q, []string{secret}, zap.NewNop(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return q, srv.URL + "/webhook"
}

func load(t *testing.T, args ...string) string {
	t.Helper()
	var out, errs strings.Builder
	if err := run(context.Background(), args, &out, &errs); err != nil {
		t.Fatalf("run %v: %v\n%s", args, err, errs.String())
	}
	return out.String()
}

// A short run at a fixed concurrency and one at a fixed rate against the real receiver: every
// delivery is stored once, under its own delivery id, spread over installations and issues.
func TestLoadAgainstTheReceiver(t *testing.T) {
	q, url := receiver(t, "s3cret")
	out := load(t, "-url", url, "-secret", "s3cret", "-payload", opened, "-n", "60", "-c", "4", "-installations", "3", "-issues", "2")
	for _, want := range []string{`sent 60 deliveries in .* \(c=4\): \d+ req/s`, `answer latency: p50 [\d.]+ms p90 [\d.]+ms p99 [\d.]+ms max [\d.]+ms`, `status 202: 60\n`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", want, out)
		}
	}
	out = load(t, "-url", url, "-secret", "s3cret", "-payload", opened, "-n", "20", "-rate", "400", "-c", "2")
	if !strings.Contains(out, "rate=400/s, at most 2 in flight") || !strings.Contains(out, "status 202: 20\n") {
		t.Errorf("rate run:\n%s", out)
	}
	if got := queuetest.Msgs(t, q.JetStream(), queue.EventStream); got != 80 {
		t.Fatalf("stream holds %d messages, want 80 (distinct delivery ids)", got)
	}
	// 3 installations x 2 issues: 6 subjects.
	subjects := map[string]bool{}
	info, err := q.JetStream().Stream(context.Background(), queue.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	si, err := info.Info(context.Background(), jetstream.WithSubjectFilter(">"))
	if err != nil {
		t.Fatal(err)
	}
	for s := range si.State.Subjects {
		subjects[s] = true
	}
	if len(subjects) != 7 { // 6 spread + the payload's own issue of the rate run
		t.Errorf("deliveries went to %d subjects, want 7: %v", len(subjects), subjects)
	}
}

// The baseline (a bare verify-and-202 handler in the tool) answers like a receiver, and
// invented event names are sent when asked.
func TestLoadBaselineAndRandomEvents(t *testing.T) {
	out := load(t, "-baseline", "-secret", "s3cret", "-payload", opened, "-n", "20", "-c", "2")
	if !strings.Contains(out, "status 202: 20\n") {
		t.Errorf("baseline:\n%s", out)
	}
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	_, url := receiverWith(t, "s3cret", handlers.WithObserver(func(event string, status int) {
		mu.Lock()
		defer mu.Unlock()
		seen[event] = true
	}))
	out = load(t, "-url", url, "-secret", "s3cret", "-payload", opened, "-n", "20", "-c", "2", "-event", "random", "-sign", "none")
	if !strings.Contains(out, "status 401: 20\n") {
		t.Errorf("random events:\n%s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || !seen["other"] {
		t.Errorf("observed event labels %v, want only other", seen)
	}
}

// Forged and unsigned deliveries, padded to a size, for the memory measurements.
func TestLoadForgedAndUnsigned(t *testing.T) {
	_, url := receiver(t, "s3cret")
	for _, sign := range []string{"forged", "none"} {
		out := load(t, "-url", url, "-payload", opened, "-n", "10", "-c", "5", "-sign", sign, "-size", "100000")
		if !strings.Contains(out, "status 401: 10\n") {
			t.Errorf("-sign %s:\n%s", sign, out)
		}
	}
}

// -handled waits until the triagebot's /metrics count every delivery it took as handled, and
// says how long that took: here a stand-in that handles at most 5 of the deliveries it took
// each time its metrics are read, so that a tool that read them once would see 5, not 20.
func TestLoadWaitsForDeliveriesHandled(t *testing.T) {
	var mu sync.Mutex
	taken, handled := 0, 0
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		taken++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		handled = min(handled+5, taken)
		fmt.Fprintf(w, "# TYPE triagebot_events_handled_total counter\ntriagebot_events_handled_total{event=\"issues\",result=\"acked\"} %d\n", handled+7)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	out := load(t, "-url", srv.URL+"/webhook", "-secret", "s", "-payload", opened, "-n", "20", "-c", "4", "-handled", srv.URL+"/metrics")
	if want := regexp.MustCompile(`handled 20 of 20 in [\d.]+m?s from the first delivery sent \(\d+ events/s\), the last [\d.]+[mµ]?s after the last answer`); !want.MatchString(out) {
		t.Errorf("output:\n%s\nwant a line matching %s", out, want)
	}
}

func TestLoadRefusesBadFlags(t *testing.T) {
	tests := []struct {
		give []string
		want string
	}{
		{[]string{"-n", "0"}, "-n 0: between 1 and 1,000,000"},
		{[]string{"-duration", "1h"}, "-duration 1h0m0s: between 0 and 10m"},
		{[]string{"-sign", "maybe"}, `-sign "maybe": valid, forged or none`},
		{[]string{"-secret", ""}, "-secret (or TRIAGEBOT_WEBHOOK_SECRET): required to sign"},
		{[]string{"-ghfake"}, "-ghfake needs -serve"},
		{[]string{"-secret", "x", "-pid", "-3"}, "-pid -3: a process id, and not with -ghfake"},
		{[]string{"-ghfake", "-serve", "x", "-pid", "1"}, "-pid 1: a process id, and not with -ghfake"},
		{[]string{"-secret", "x", "-pid", "1", "-sample-every", "1ms"}, "-sample-every 1ms: at least 100ms"},
		{[]string{"-secret", "x", "-payload", "/nonexistent.json"}, "-payload: open /nonexistent.json"},
		{[]string{"-ghfake", "-serve", "x", "-handled", "http://127.0.0.1:1/metrics"}, "-handled: not with -ghfake or -baseline"},
		{[]string{"-secret", "x", "-payload", opened, "-handled", "http://127.0.0.1:1/metrics"}, "-handled: Get"},
		{[]string{"-secret", "x", "-work", "2"}, "-work 2: between 0 and 16, with -ghfake"},
		{[]string{"-ghfake", "-serve", "x", "-work", "17"}, "-work 17: between 0 and 16, with -ghfake"},
		{[]string{"-ghfake", "-serve", "/nonexistent/triagebot", "-work", "1"}, "triagebot receive"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.give, " "), func(t *testing.T) {
			t.Setenv("TRIAGEBOT_WEBHOOK_SECRET", "")
			var out, errs strings.Builder
			err := run(context.Background(), tt.give, &out, &errs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// The end-to-end measurement: a real triagebot (built here) against the in-memory GitHub; every
// issue gets its label, and the delivery → label latency is reported for all of them.
func TestLoadEffectLatencyAgainstGHFake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs triagebot")
	}
	bin := filepath.Join(t.TempDir(), "triagebot")
	if out, err := exec.Command("go", "build", "-o", bin, "../triagebot").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// One serve (the embedded store), then the roles apart: a receive and two work processes
	// against a NATS server of the tool's.
	for _, work := range []string{"0", "2"} {
		out := load(t, "-ghfake", "-serve", bin, "-work", work, "-n", "24", "-c", "8", "-installations", "4", "-issues", "6", "-settle", "60s")
		for _, want := range []string{`status 202: 24\n`, `delivery → label at GitHub: 24 of 24 issues, p50 [\d.]+ms p90 [\d.]+ms p99 [\d.]+ms max [\d.]+ms`,
			`\n  24 POST /repos/\{owner\}/\{repo\}/issues/\{issue_number\}/labels\n`, `\n  \d+ POST /app/installations/\{installation_id\}/access_tokens\n`} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("-work %s: output does not match %q:\n%s", work, want, out)
			}
		}
	}
}

// -duration stops the sending, not the deliveries already sent: those are answered and counted
// by their status. Here every request is held until well after the run's 100 ms; a tool that
// cancelled them at the deadline reported each as "status error", as if the receiver failed.
func TestDurationLetsTheDeliveriesInFlightFinish(t *testing.T) {
	release := make(chan struct{})
	timer := time.AfterFunc(400*time.Millisecond, func() { close(release) })
	defer timer.Stop()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-release
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	out := load(t, "-url", srv.URL, "-secret", "s3cret", "-payload", opened, "-n", "1000", "-c", "4", "-duration", "100ms")
	if strings.Contains(out, "status error") || !regexp.MustCompile(`sent [1-4] deliveries in `).MatchString(out) ||
		!regexp.MustCompile(`status 202: [1-4]\n`).MatchString(out) {
		t.Errorf("want the held deliveries answered 202, none cut off:\n%s", out)
	}
}
