package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	rec := newRecorder()
	a := startTestApp(t, rec)
	base := "http://" + a.addr
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz %d %s", code, body)
	}
	if status := postDelivery(t, a.addr, "issues", "m-1", webhookBody(t, "issues/opened.json", nil)); status != 202 {
		t.Fatalf("status %d", status)
	}
	rec.waitFor(t, "the delivery", func(c []execCall) bool { return len(c) == 1 })
	// The outcome is counted once the event is acknowledged, just after the executor returns.
	var code int
	var body string
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
poll:
	for {
		code, body = get(t, base+"/metrics")
		if strings.Contains(body, `result="acked"`) {
			break
		}
		select {
		case <-tick.C:
		case <-deadline:
			break poll
		}
	}
	for _, want := range []string{
		`triagebot_webhook_deliveries_total{event="issues",status="202"} 1`,
		`triagebot_events_handled_total{event="issues",result="acked"} 1`,
		`triagebot_event_duration_seconds_count{event="issues"} 1`,
		"go_goroutines",
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	// Shutting down: not ready, and deliveries are refused so GitHub records them as failed.
	a.draining.Store(true)
	a.receiver.Drain()
	if code, _ := get(t, base+"/readyz"); code != 503 {
		t.Fatalf("/readyz while draining: %d, want 503", code)
	}
	if status := postDelivery(t, a.addr, "issues", "m-2", webhookBody(t, "issues/opened.json", nil)); status != 503 {
		t.Fatalf("delivery while draining: %d, want 503", status)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz while draining: %d", code)
	}
}
