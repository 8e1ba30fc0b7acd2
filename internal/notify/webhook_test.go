package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// secretPath is the part of a chat webhook URL that is the secret.
const secretPath = "/services/T000/B000/sEcReTtOkEn"

// hook is a chat webhook endpoint; answer decides each response (nil: 200).
type hook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	posts  []hookPost
	answer func(i int, w http.ResponseWriter) // i counts requests from 0
}

type hookPost struct {
	At      time.Time
	Status  int
	Header  http.Header
	Payload WebhookPayload
}

func newHook(t *testing.T, answer func(i int, w http.ResponseWriter)) *hook {
	h := &hook{answer: answer}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+secretPath, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p WebhookPayload
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Errorf("webhook body is not the payload: %v", err)
		}
		h.mu.Lock()
		i := len(h.posts)
		h.posts = append(h.posts, hookPost{At: time.Now(), Header: r.Header.Clone(), Payload: p, Status: 200})
		h.mu.Unlock()
		rec := httptest.NewRecorder()
		if h.answer != nil {
			h.answer(i, rec)
		}
		h.mu.Lock()
		h.posts[i].Status = rec.Code
		h.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
	})
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) url() string { return h.srv.URL + secretPath }

func (h *hook) all() []hookPost {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookPost(nil), h.posts...)
}

func (h *hook) ok() []hookPost {
	var out []hookPost
	for _, p := range h.all() {
		if p.Status/100 == 2 {
			out = append(out, p)
		}
	}
	return out
}

func webhookChannel(url string, digest time.Duration) map[string]ChannelConfig {
	return map[string]ChannelConfig{"ops": {Name: "ops", Type: TypeWebhook, URL: WebhookURL(url), Digest: digest,
		Headers: map[string]string{"Authorization": "Bearer hdr-secret"}}}
}

func TestWebhookPayload(t *testing.T) {
	hk := newHook(t, nil)
	h := start(t, webhookChannel(hk.url(), 0))
	n := note("d1.issue_opened.ops", "octo/repo", 7)
	n.Text = "New issue octo/repo#7 by @alice: <https://evil|click> & more"
	h.enqueue(t, n)
	h.outs.until(t, ResultSent)

	posts := hk.ok()
	if len(posts) != 1 {
		t.Fatalf("got %d posts, want 1", len(posts))
	}
	want := WebhookPayload{
		Text: "New issue octo/repo#7 by @\u200balice: &lt;https://evil|click&gt; &amp; more",
		Items: []WebhookItem{{
			ID: "d1.issue_opened.ops", Route: "issue_opened", Repo: "octo/repo", Number: 7,
			Title: "Crash 7 when @everyone <!channel> clicks", URL: "https://github.com/octo/repo/issues/7",
			Event: "opened", Reason: "a notification route asks for issue_opened", Text: n.Text, At: n.At,
		}},
	}
	if diff := cmp.Diff(want, posts[0].Payload); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	if got := posts[0].Header.Get("Authorization"); got != "Bearer hdr-secret" {
		t.Errorf("Authorization header = %q", got)
	}
	if got := posts[0].Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	h.streamEmpty(t)
}

func TestWebhookDigestsABurstIntoOnePost(t *testing.T) {
	hk := newHook(t, nil)
	clock := newFakeClock()
	h := start(t, webhookChannel(hk.url(), DefaultDigest), WithClock(clock))
	var want []string
	for i := 1; i <= 10; i++ {
		id := fmt.Sprintf("d%d.issue_opened.ops", i)
		want = append(want, id)
		h.enqueue(t, note(id, "octo/repo", i))
	}
	w := clock.window(t)
	if w.d != time.Minute {
		t.Errorf("digest window = %s, want the default 1m", w.d)
	}
	h.waitPending(t, "ops", 10)
	if n := len(hk.all()); n != 0 {
		t.Fatalf("%d posts before the window closed", n)
	}
	w.ch <- clock.Now()
	sent, _ := h.outs.until(t, ResultSent)

	posts := hk.all()
	if len(posts) != 1 {
		t.Fatalf("got %d posts, want exactly 1", len(posts))
	}
	var got []string
	for _, it := range posts[0].Payload.Items {
		got = append(got, it.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, sent.IDs); diff != "" {
		t.Errorf("sent IDs (-want +got):\n%s", diff)
	}
	text := posts[0].Payload.Text
	if !strings.HasPrefix(text, "triagebot: 10 notifications\n") || strings.Count(text, "\n• ") != 10 {
		t.Errorf("digest text:\n%s", text)
	}
	if strings.Contains(text, "<!channel>") || strings.Contains(text, "@everyone") {
		t.Errorf("user text can ping a chat channel:\n%s", text)
	}
	h.streamEmpty(t)
	select {
	case w := <-clock.windows:
		t.Errorf("a second window (%s) was opened with nothing to send", w.d)
	default:
	}
}

func TestWebhookFailingEndpointRetriedNotDuplicated(t *testing.T) {
	hk := newHook(t, func(i int, w http.ResponseWriter) {
		if i < 2 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	h := start(t, webhookChannel(hk.url(), time.Hour))
	want := []string{"a", "b", "c"}
	for i, id := range want {
		h.enqueue(t, note(id, "octo/repo", i+1))
	}
	for attempt := 1; attempt <= 3; attempt++ {
		h.waitPending(t, "ops", 3)
		h.d.FlushNow()
	}
	if diff := cmp.Diff([]string{ResultRetry, ResultRetry, ResultSent}, h.outs.results()); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	h.streamEmpty(t)
	h.d.FlushNow()

	if n := len(hk.all()); n != 3 {
		t.Errorf("%d requests, want 3 (two failures, one success)", n)
	}
	ok := hk.ok()
	if len(ok) != 1 {
		t.Fatalf("%d successful posts, want exactly 1", len(ok))
	}
	all := hk.all()
	if key := all[0].Header.Get("Idempotency-Key"); key == "" || all[2].Header.Get("Idempotency-Key") != key {
		t.Errorf("a retried digest changed its Idempotency-Key: %q then %q", key, all[2].Header.Get("Idempotency-Key"))
	}
	count := map[string]int{}
	for _, it := range ok[0].Payload.Items {
		count[it.ID]++
	}
	if diff := cmp.Diff(map[string]int{"a": 1, "b": 1, "c": 1}, count); diff != "" {
		t.Errorf("items in the successful post (-want +got):\n%s", diff)
	}
	if logs := h.logText(); strings.Contains(logs, secretPath) || strings.Contains(logs, "hdr-secret") {
		t.Errorf("a secret was logged:\n%s", logs)
	}
}

func TestWebhookRateLimitHonoursRetryAfter(t *testing.T) {
	hk := newHook(t, func(i int, w http.ResponseWriter) {
		if i == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	h := start(t, webhookChannel(hk.url(), 0))
	h.enqueue(t, note("x", "octo/repo", 1))
	limited := h.outs.next(t)
	if limited.Result != ResultRateLimited || limited.Delay != time.Second {
		t.Fatalf("first outcome = %s after %s, want rate_limited after 1s", limited.Result, limited.Delay)
	}
	h.outs.until(t, ResultSent)
	posts := hk.all()
	if len(posts) != 2 {
		t.Fatalf("%d requests, want 2", len(posts))
	}
	if gap := posts[1].At.Sub(posts[0].At); gap < time.Second {
		t.Errorf("retried %s after a 429 asking for 1s", gap)
	}
}

func TestWebhookClientErrorDeadLettersAfterAFewAttempts(t *testing.T) {
	hk := newHook(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) })
	h := start(t, webhookChannel(hk.url(), 0), WithAttempts(10, 3))
	h.enqueue(t, note("gone", "octo/repo", 1))
	dead, before := h.outs.until(t, ResultDeadLettered)
	if len(before) != 2 || len(hk.all()) != 3 {
		t.Errorf("dead-lettered after %d retries and %d requests, want 2 and 3", len(before), len(hk.all()))
	}
	if !strings.Contains(dead.Err.Error(), "HTTP 404") || strings.Contains(dead.Err.Error(), secretPath) {
		t.Errorf("reason = %q: want the status, not the URL", dead.Err)
	}
	h.streamEmpty(t)

	s, err := h.srv.JS.Stream(ctxT(t), DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetLastMsgForSubject(ctxT(t), DLQSubjects+".ops")
	if err != nil {
		t.Fatal(err)
	}
	var n Notification
	if err := json.Unmarshal(msg.Data, &n); err != nil || n.ID != "gone" {
		t.Errorf("dead letter = %s (%v)", msg.Data, err)
	}
	reason := msg.Header.Get(HeaderDLQReason)
	if want := "webhook http://" + hk.srv.Listener.Addr().String() + "/…: HTTP 404"; reason != want {
		t.Errorf("dead-letter reason = %q, want %q", reason, want)
	}
	if got := msg.Header.Get(HeaderDLQAttempts); got != "3" {
		t.Errorf("attempts = %q, want 3", got)
	}
	if logs := h.logText(); strings.Contains(logs, secretPath) || !strings.Contains(logs, "notification dead-lettered") {
		t.Errorf("logs leak the URL or miss the dead letter:\n%s", logs)
	}
}

func TestWebhookUnreachableErrorHidesURL(t *testing.T) {
	hk := newHook(t, nil)
	url := hk.url()
	hk.srv.Close() // nothing listens any more
	h := start(t, webhookChannel(url, 0), WithAttempts(1, 1))
	h.enqueue(t, note("x", "octo/repo", 1))
	dead, _ := h.outs.until(t, ResultDeadLettered)
	if strings.Contains(dead.Err.Error(), secretPath) {
		t.Errorf("error shows the secret URL: %v", dead.Err)
	}
	if logs := h.logText(); strings.Contains(logs, secretPath) {
		t.Errorf("logs show the secret URL:\n%s", logs)
	}
}

func TestSameIDIsSentOnce(t *testing.T) {
	hk := newHook(t, nil)
	h := start(t, webhookChannel(hk.url(), time.Hour))
	n := note("d1.issue_opened.ops", "octo/repo", 1)
	h.enqueue(t, n, n) // the stream drops the second
	h.waitPending(t, "ops", 1)
	h.d.FlushNow()
	h.streamEmpty(t)

	// Past the stream's dedup window (or redelivered after a crash between send and ack), the
	// sent bucket still knows the ID.
	data, _ := json.Marshal(n)
	if _, err := h.srv.JS.Publish(ctxT(t), Subject("ops"), data); err != nil {
		t.Fatal(err)
	}
	h.waitPending(t, "ops", 1)
	h.d.FlushNow()
	dup, _ := h.outs.until(t, ResultDuplicate)
	if diff := cmp.Diff([]string{n.ID}, dup.IDs); diff != "" {
		t.Errorf("duplicate IDs (-want +got):\n%s", diff)
	}
	h.streamEmpty(t)
	if got := len(hk.all()); got != 1 {
		t.Errorf("%d posts, want 1", got)
	}
}

func TestStopGivesHeldNotificationsBack(t *testing.T) {
	hk := newHook(t, nil)
	h := start(t, webhookChannel(hk.url(), time.Hour))
	h.enqueue(t, note("a", "octo/repo", 1), note("b", "octo/repo", 2))
	h.waitPending(t, "ops", 2)
	if err := h.d.Stop(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(hk.all()); n != 0 {
		t.Fatalf("%d posts on stop", n)
	}
	h.startDispatcher(t) // a restart, or another process
	h.waitPending(t, "ops", 2)
	h.d.FlushNow()
	h.streamEmpty(t)
	if ok := hk.ok(); len(ok) != 1 || len(ok[0].Payload.Items) != 2 {
		t.Errorf("after the restart: %+v", ok)
	}
}

func TestEnqueueRejectsUnknownChannel(t *testing.T) {
	h := start(t, webhookChannel("https://chat.example/hook", time.Hour))
	n := note("x", "octo/repo", 1)
	n.Channel = "nope"
	if err := h.q.Enqueue(context.Background(), n); err == nil || !strings.Contains(err.Error(), "unknown notification channel") {
		t.Errorf("Enqueue to an unknown channel: %v", err)
	}
}

func TestWebhookFullDigestIsSentBeforeTheWindowEnds(t *testing.T) {
	hk := newHook(t, nil)
	h := start(t, webhookChannel(hk.url(), time.Hour), WithMaxBatch(3))
	for i := 1; i <= 7; i++ {
		h.enqueue(t, note(fmt.Sprint(i), "octo/repo", i))
	}
	eventually(t, "two full digests", func() bool { return len(hk.ok()) == 2 })
	h.waitPending(t, "ops", 1)
	h.d.FlushNow()
	var sizes []int
	for _, p := range hk.ok() {
		sizes = append(sizes, len(p.Payload.Items))
	}
	if diff := cmp.Diff([]int{3, 3, 1}, sizes); diff != "" {
		t.Errorf("digest sizes (-want +got):\n%s", diff)
	}
	h.streamEmpty(t)
}
