package handlers_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

const secret = "It's a Secret to Everybody"

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func payload(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "webhooks", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// delivery builds a signed webhook request; a header set to "-" is left out.
type delivery struct {
	method, event, id, sig string
	body                   []byte
	chunked                bool
}

func (d delivery) request(t testing.TB, url string) *http.Request {
	t.Helper()
	if d.method == "" {
		d.method = http.MethodPost
	}
	var body io.Reader = bytes.NewReader(d.body)
	if d.chunked {
		body = io.MultiReader(bytes.NewReader(d.body)) // unknown length: sent chunked
	}
	req, err := http.NewRequest(d.method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	set := func(k, v, def string) {
		switch v {
		case "-":
		case "":
			req.Header.Set(k, def)
		default:
			req.Header.Set(k, v)
		}
	}
	set("X-GitHub-Event", d.event, "issues")
	set("X-GitHub-Delivery", d.id, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	set("X-Hub-Signature-256", d.sig, sign(secret, d.body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func post(t testing.TB, url string, d delivery) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(d.request(t, url))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func streamMsgs(t testing.TB, q *queue.Queue) uint64 {
	t.Helper()
	return queuetest.Msgs(t, q.JetStream(), queue.EventStream)
}

func newReceiver(t testing.TB, pub handlers.Publisher, opts ...handlers.ReceiverOption) (*handlers.Receiver, *httptest.Server) {
	t.Helper()
	r, err := handlers.NewReceiver(pub, []string{"old-secret", secret}, zap.NewNop(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func TestReceiverAnswers(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 4})
	_, srv := newReceiver(t, q)
	opened := payload(t, "issues/opened.json")
	big := bytes.Repeat([]byte(" "), queue.MaxBody+1)
	tests := []struct {
		name       string
		give       delivery
		wantStatus int
		wantStored uint64 // messages in the stream after the request
		wantBody   string
	}{
		{"subscribed event is stored", delivery{body: opened, id: "a"}, 202, 1, "stored"},
		{"same delivery id again is stored once", delivery{body: opened, id: "a"}, 202, 1, "already stored"},
		{"comment event is stored", delivery{event: "issue_comment", id: "b", body: payload(t, "issue_comment/created.json")}, 202, 2, "stored"},
		{"installation event is stored", delivery{event: "installation", id: "c", body: payload(t, "installation/created.json")}, 202, 3, "stored"},
		{"push event is stored", delivery{event: "push", id: "d", body: payload(t, "push/with-new-branch.json")}, 202, 4, "stored"},
		{"ping answers 200, not stored", delivery{event: "ping", id: "e", body: payload(t, "ping/with-app_id.json")}, 200, 4, "pong"},
		{"unsubscribed event answers 202, not stored", delivery{event: "pull_request", id: "f", body: payload(t, "pull_request/opened.json")}, 202, 4, "not stored"},
		{"signature from the other configured secret (rotation)", delivery{id: "g", body: opened, sig: sign("old-secret", opened)}, 202, 5, "stored"},
		{"missing signature", delivery{id: "h", body: opened, sig: "-"}, 401, 5, "missing X-Hub-Signature-256"},
		{"signature with an unknown secret", delivery{id: "h", body: opened, sig: sign("guess", opened)}, 401, 5, "does not match"},
		{"signature of another body", delivery{id: "h", body: opened, sig: sign(secret, []byte("{}"))}, 401, 5, "does not match"},
		{"signature that is not hex", delivery{id: "h", body: opened, sig: "sha256=zz"}, 401, 5, "does not match"},
		{"missing event header", delivery{event: "-", id: "h", body: opened}, 400, 5, "missing X-GitHub-Event"},
		{"missing delivery header", delivery{id: "-", body: opened}, 400, 5, "X-GitHub-Delivery"},
		{"body that is not JSON", delivery{id: "h", body: []byte("Hello, World!")}, 400, 5, "not a JSON object"},
		{"JSON that is not an object", delivery{id: "h", body: []byte(`["a"]`)}, 400, 5, "not a JSON object"},
		{"GET", delivery{method: http.MethodGet, id: "h", body: nil}, 405, 5, "POSTed"},
		{"body over 25 MiB with Content-Length", delivery{id: "h", body: big}, 413, 5, "body over"},
		{"body over 25 MiB sent chunked", delivery{id: "h", body: big, chunked: true}, 413, 5, "body over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, srv.URL, tt.give)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("answer %d %q, want %d containing %q", status, body, tt.wantStatus, tt.wantBody)
			}
			if got := streamMsgs(t, q); got != tt.wantStored {
				t.Errorf("stream holds %d messages, want %d", got, tt.wantStored)
			}
		})
	}
}

func TestReceiverSignatureVectors(t *testing.T) {
	var file struct {
		Vectors []struct {
			ID, Header, Secret, Signature string
			PayloadBase64                 string `json:"payload_base64"`
			Valid                         bool
		}
	}
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	pub := &recordingPublisher{}
	for _, v := range file.Vectors {
		t.Run(v.ID, func(t *testing.T) {
			body, err := base64.StdEncoding.DecodeString(v.PayloadBase64)
			if err != nil {
				t.Fatal(err)
			}
			r, err := handlers.NewReceiver(pub, []string{v.Secret}, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "issues")
			req.Header.Set("X-GitHub-Delivery", v.ID)
			// Deliberately stricter than go-github: only X-Hub-Signature-256 counts. A SHA-1
			// X-Hub-Signature (or sha512) alone is refused: there is no fallback to it.
			accepted := v.Valid && v.Header == "X-Hub-Signature-256"
			if v.Header == "X-Hub-Signature-256" && v.Signature != "" {
				req.Header.Set(v.Header, v.Signature)
			} else if v.Header != "" && v.Signature != "" {
				req.Header.Set("X-Hub-Signature", v.Signature)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if got := w.Code != http.StatusUnauthorized; got != accepted {
				t.Fatalf("answer %d %s; want the signature accepted: %v", w.Code, w.Body, accepted)
			}
		})
	}
}

// recordingPublisher stands in for JetStream where the test is about the HTTP answer alone.
type recordingPublisher struct {
	delay time.Duration
	n     int
}

func (p *recordingPublisher) Publish(ctx context.Context, d queue.Delivery) (queue.PublishResult, error) {
	if p.delay > 0 {
		select {
		case <-time.After(p.delay):
		case <-ctx.Done():
			return queue.PublishResult{}, ctx.Err()
		}
	}
	p.n++
	return queue.PublishResult{Sequence: uint64(p.n)}, nil
}

func TestReceiverQueueUnavailable(t *testing.T) {
	opened := payload(t, "issues/opened.json")

	t.Run("JetStream slower than the publish timeout", func(t *testing.T) {
		_, srv := newReceiver(t, &recordingPublisher{delay: time.Hour}, handlers.WithPublishTimeout(20*time.Millisecond))
		if status, body := post(t, srv.URL, delivery{body: opened}); status != 503 {
			t.Fatalf("answer %d %s, want 503", status, body)
		}
	})

	t.Run("JetStream unreachable", func(t *testing.T) {
		q, s := queuetest.Queue(t, queue.Config{Partitions: 1})
		_, srv := newReceiver(t, q)
		s.Close()
		if status, body := post(t, srv.URL, delivery{body: opened}); status != 503 {
			t.Fatalf("answer %d %s, want 503", status, body)
		}
	})

	t.Run("draining for shutdown", func(t *testing.T) {
		r, srv := newReceiver(t, &recordingPublisher{})
		r.Drain()
		if status, body := post(t, srv.URL, delivery{body: opened}); status != 503 {
			t.Fatalf("answer %d %s, want 503", status, body)
		}
	})
}

func TestReceiverNATSMaxPayloadSmallerThanGitHubs(t *testing.T) {
	s := queuetest.StartWith(t, queue.EmbeddedConfig{MaxPayload: 1 << 20})
	q, err := queue.Setup(context.Background(), s.JS, queue.Config{Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	r, err := handlers.NewReceiver(q, []string{secret}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	// Random (incompressible) padding: bodies are stored compressed, and 2 MiB of one letter
	// would fit in 1 MiB.
	noise := make([]byte, 3<<20)
	for i := range noise {
		noise[i] = byte(rand.N(256))
	}
	body := []byte(`{"pad":"` + base64.StdEncoding.EncodeToString(noise) + `"}`)
	if status, text := post(t, srv.URL, delivery{body: body}); status != 413 {
		t.Fatalf("answer %d %s, want 413", status, text)
	}
	found := logs.FilterMessageSnippet("max_payload").Len()
	if found != 1 {
		t.Fatalf("%d log lines explain the max_payload limit, want 1: %v", found, logs.All())
	}
}

func TestNewReceiverNeedsASecret(t *testing.T) {
	if _, err := handlers.NewReceiver(&recordingPublisher{}, []string{""}, zap.NewNop()); err == nil || err.Error() != "no webhook secret" {
		t.Fatalf("err = %v", err)
	}
}
