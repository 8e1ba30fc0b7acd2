package handlers_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// rawRequest opens a connection to srv and sends a POST /webhook head announcing contentLength
// bytes, and the first bytes of the body (part), without the rest. The caller reads the answer.
func rawRequest(t *testing.T, srv *httptest.Server, headers map[string]string, contentLength int, part []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", contentLength)
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	if _, err := conn.Write(append([]byte(b.String()), part...)); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// readAnswer reads the answer on conn, failing if none comes within a few seconds (a receiver
// waiting for a body that never comes).
func readAnswer(t *testing.T, conn net.Conn, r *bufio.Reader) (int, string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// A caller without the headers a delivery needs is answered from the headers alone: its body,
// never sent here, is not waited for (nor read, nor held in memory).
func TestReceiverAnswersBeforeReadingTheBody(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	_, srv := newReceiver(t, q)
	sig := sign(secret, []byte("{}"))
	tests := []struct {
		name       string
		give       map[string]string
		length     int
		wantStatus int
		wantBody   string
	}{
		{"no signature", map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": "a"}, 1 << 20, 401, "missing X-Hub-Signature-256"},
		{"no event", map[string]string{"X-Hub-Signature-256": sig, "X-GitHub-Delivery": "a"}, 1 << 20, 400, "missing X-GitHub-Event"},
		{"no delivery id", map[string]string{"X-Hub-Signature-256": sig, "X-GitHub-Event": "issues"}, 1 << 20, 400, "X-GitHub-Delivery"},
		{"Content-Length over 25 MiB", map[string]string{"X-Hub-Signature-256": sig, "X-GitHub-Event": "issues", "X-GitHub-Delivery": "a"}, queue.MaxBody + 1, 413, "body over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, r := rawRequest(t, srv, tt.give, tt.length, nil)
			status, body := readAnswer(t, conn, r)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("answer %d %q, want %d containing %q", status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// The bodies held at once are bounded: while one delivery holds the in-flight bytes, another
// that does not fit is answered 503 after the short wait, and is stored once bytes are free.
func TestReceiverBoundsInflightBytes(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	body := payload(t, "issues/opened.json")
	r, srv := newReceiver(t, q, handlers.WithMaxInflightBytes(int64(len(body))+100), handlers.WithInflightWait(50*time.Millisecond))
	headers := map[string]string{"X-Hub-Signature-256": sign(secret, body), "X-GitHub-Event": "issues", "X-GitHub-Delivery": "slow"}
	conn, slow := rawRequest(t, srv, headers, len(body), body[:100])
	waitFor(t, "the slow delivery to hold its bytes", func() bool { return r.InflightBytes() == int64(len(body)) })

	if status, text := post(t, srv.URL, delivery{body: body, id: "second"}); status != 503 || !strings.Contains(text, "deliver again later") {
		t.Fatalf("second delivery while the first holds the bytes: %d %s, want 503", status, text)
	}
	if _, err := conn.Write(body[100:]); err != nil {
		t.Fatal(err)
	}
	if status, text := readAnswer(t, conn, slow); status != 202 {
		t.Fatalf("slow delivery: %d %s, want 202", status, text)
	}
	if status, text := post(t, srv.URL, delivery{body: body, id: "second"}); status != 202 {
		t.Fatalf("second delivery again: %d %s, want 202", status, text)
	}
	if got := streamMsgs(t, q); got != 2 {
		t.Fatalf("stream holds %d messages, want 2", got)
	}
	if got := r.InflightBytes(); got != 0 {
		t.Fatalf("%d bytes still held after the answers", got)
	}
}

// A body sent chunked (no Content-Length) takes its share as it arrives, and is refused at the
// limit without being held whole.
func TestReceiverChunkedBodyWithinBounds(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	body := payload(t, "issues/opened.json")
	r, srv := newReceiver(t, q, handlers.WithMaxBody(int64(len(body))))
	if status, text := post(t, srv.URL, delivery{body: body, id: "a", chunked: true}); status != 202 {
		t.Fatalf("chunked delivery: %d %s, want 202", status, text)
	}
	big := append(append([]byte(nil), body...), ' ')
	if status, text := post(t, srv.URL, delivery{body: big, id: "b", chunked: true}); status != 413 {
		t.Fatalf("chunked delivery one byte over: %d %s, want 413", status, text)
	}
	if got := r.InflightBytes(); got != 0 {
		t.Fatalf("%d bytes still held after the answers", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Answers that were wrong: a huge delivery id was a 503 (NATS's header limit), a form-encoded
// body "not a JSON object".
func TestReceiverRefusesBadHeaders(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	_, srv := newReceiver(t, q)
	opened := payload(t, "issues/opened.json")
	form := []byte("payload=" + url.QueryEscape(string(opened)))
	tests := []struct {
		name        string
		give        delivery
		contentType string
		wantStatus  int
		wantStored  uint64
		wantBody    string
	}{
		{"delivery id of 70,000 characters", delivery{body: opened, id: strings.Repeat("x", 70_000)}, "", 400, 0, "X-GitHub-Delivery over 200 characters"},
		{"delivery id of 201 characters", delivery{body: opened, id: strings.Repeat("x", 201)}, "", 400, 0, "X-GitHub-Delivery over 200 characters"},
		{"delivery id of 200 characters", delivery{body: opened, id: strings.Repeat("x", 200)}, "", 202, 1, "stored"},
		{"form-encoded body", delivery{body: form, id: "f"}, "application/x-www-form-urlencoded", 415, 1, "application/json"},
		{"form-encoded with a charset", delivery{body: form, id: "f"}, "application/x-www-form-urlencoded; charset=utf-8", 415, 1, "application/json"},
		{"JSON with a charset", delivery{body: opened, id: "j"}, "application/json; charset=utf-8", 202, 2, "stored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.give.request(t, srv.URL)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("answer %d %q, want %d containing %q", res.StatusCode, b, tt.wantStatus, tt.wantBody)
			}
			if got := streamMsgs(t, q); got != tt.wantStored {
				t.Errorf("stream holds %d messages, want %d", got, tt.wantStored)
			}
		})
	}
}

// Every 401 leaves a warning with the delivery id, a bounded event name and the caller's
// address (never the signature or the body), and a flood of them does not flood the log.
func TestReceiverLogsRejectedSignatures(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	r, err := handlers.NewReceiver(&recordingPublisher{}, []string{secret}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	opened := payload(t, "issues/opened.json")
	forged := sign("guess", opened)
	if status, _ := post(t, srv.URL, delivery{body: opened, id: "d-1", sig: forged}); status != 401 {
		t.Fatalf("status %d, want 401", status)
	}
	warns := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warns) != 1 {
		t.Fatalf("%d warnings for one 401, want 1: %v", len(warns), logs.All())
	}
	got := warns[0].ContextMap()
	if got["delivery_id"] != "d-1" || got["event"] != "issues" || !strings.HasPrefix(got["remote_addr"].(string), "127.0.0.1:") {
		t.Errorf("warning fields %v, want delivery_id d-1, event issues and the remote address", got)
	}
	line := fmt.Sprint(warns[0].Message, got)
	if strings.Contains(line, strings.TrimPrefix(forged, "sha256=")) || strings.Contains(line, "Spice") {
		t.Errorf("the warning holds the signature or the body: %s", line)
	}

	// A flood of unsigned requests with invented, long event names.
	const flood = 200
	var wg sync.WaitGroup
	for i := range flood {
		wg.Go(func() {
			post(t, srv.URL, delivery{body: []byte("{}"), id: fmt.Sprint("f-", i), sig: "-", event: strings.Repeat("e", 1000) + fmt.Sprint(i)})
		})
	}
	wg.Wait()
	warns = logs.FilterLevelExact(zapcore.WarnLevel).All()
	// 10 at once, then about one a second: far fewer lines than requests (the bound leaves room
	// for a slow machine).
	if len(warns) < 2 || len(warns) > flood/2 {
		t.Fatalf("%d warnings for %d rejected requests, want a handful", len(warns), flood+1)
	}
	for _, w := range warns {
		if ev := w.ContextMap()["event"].(string); len(ev) > 70 {
			t.Fatalf("event field of %d bytes logged", len(ev))
		}
	}
}

// Metric labels come from a closed set: whatever X-GitHub-Event a caller sends, signed or not,
// the observer sees one of the events triagebot knows or "other".
func TestReceiverObserverLabelsAreBounded(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	_, srv := newReceiver(t, &recordingPublisher{}, handlers.WithObserver(func(event string, status int) {
		mu.Lock()
		defer mu.Unlock()
		seen[fmt.Sprint(event, " ", status)]++
	}))
	opened := payload(t, "issues/opened.json")
	for i := range 50 {
		post(t, srv.URL, delivery{body: opened, id: fmt.Sprint("u-", i), sig: "-", event: fmt.Sprint("random-", i)})
		post(t, srv.URL, delivery{body: opened, id: fmt.Sprint("s-", i), event: fmt.Sprint("random-", i)})
	}
	post(t, srv.URL, delivery{body: opened, id: "i"})
	post(t, srv.URL, delivery{body: payload(t, "ping/with-app_id.json"), id: "p", event: "ping"})
	want := map[string]int{"other 401": 50, "other 202": 50, "issues 202": 1, "ping 200": 1}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Fatalf("observed labels (-want +got):\n%s", diff)
	}
}
