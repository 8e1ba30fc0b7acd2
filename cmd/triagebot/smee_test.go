package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/triagebot/triagebot/internal/ghfake"
)

// sseChannel is a local smee.io-style channel: each message sent is written as an SSE event.
func sseChannel(t *testing.T) (url string, send chan<- string) {
	t.Helper()
	ch := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "id: 0\nevent: ready\ndata: {}\n\n")
		w.(http.Flusher).Flush()
		for id := 1; ; id++ {
			select {
			case data := <-ch:
				fmt.Fprintf(w, "id: %d\ndata: %s\n\n", id, data)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/abc123", ch
}

// With TRIAGEBOT_SMEE_URL, serve takes GitHub's deliveries from the channel: a genuine one
// becomes a label at GitHub, a forged one is refused, and both show in /metrics.
func TestServeTakesDeliveriesFromASmeeChannel(t *testing.T) {
	url, send := sseChannel(t)
	l, _ := startLocalT(t, localConfig{
		Fake:     []ghfake.Option{ghfake.WithInstallation(7, "octo", "octo/hello")},
		Settings: func(s *settings) { s.SmeeURL = url },
	})
	l.Fake.SetWebhook("", "") // GitHub posts to the channel, not to the bot
	n, err := l.Fake.OpenIssue("octo/hello", "alice", "Crash on start", "It crashes.")
	if err != nil {
		t.Fatal(err)
	}
	var d ghfake.Delivery
	for _, d = range l.Fake.Deliveries() {
		if d.Event == "issues" && d.Action == "opened" {
			break
		}
	}
	message := func(id, secret string) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(d.Payload)
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(map[string]any{"x-github-event": "issues", "x-github-delivery": id, "content-type": "application/json",
			"x-hub-signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)), "body": json.RawMessage(d.Payload), "timestamp": 1})
		return string(bytes.TrimSpace(b.Bytes()))
	}
	send <- message("forged", "guess")
	send <- message(d.GUID, l.App.s.Secrets[0])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.Fake.Wait(ctx, func() bool {
		is, _ := l.Fake.Issue("octo/hello", n)
		return slices.Contains(is.Labels, "needs-triage")
	}); err != nil {
		t.Fatalf("no needs-triage label from the delivery through the channel: %v", err)
	}
	res, err := http.Get("http://" + l.App.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var metrics bytes.Buffer
	_, _ = metrics.ReadFrom(res.Body)
	for _, want := range []string{`triagebot_webhook_deliveries_total{event="issues",status="202"} 1`, `triagebot_webhook_deliveries_total{event="issues",status="401"} 1`, "triagebot_webhook_inflight_bytes 0"} {
		if !bytes.Contains(metrics.Bytes(), []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
