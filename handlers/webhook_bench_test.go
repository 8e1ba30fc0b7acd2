package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// The full receiver (verify, route, store in a real embedded JetStream, answer 202) against a
// handler that only verifies the signature and answers 202, on a signed 13 KB payload, in the
// same run: go test -run '^$' -bench Receiver -benchmem ./handlers/
func BenchmarkReceiver(b *testing.B) {
	body := payload(b, "issues/opened.json")
	sig := sign(secret, body)
	run := func(b *testing.B, h http.Handler) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "issues")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", i))
			req.Header.Set("X-Hub-Signature-256", sig)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusAccepted {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	b.Run("verify-only", func(b *testing.B) {
		secrets := [][]byte{[]byte(secret)}
		run(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(io.LimitReader(r.Body, queue.MaxBody+1))
			if !handlers.ValidSignature(r.Header.Get("X-Hub-Signature-256"), body, secrets...) {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		}))
	})
	b.Run("full-jetstream", func(b *testing.B) {
		q, _ := queuetest.Queue(b, queue.Config{})
		r, err := handlers.NewReceiver(q, []string{secret}, zap.NewNop())
		if err != nil {
			b.Fatal(err)
		}
		run(b, r)
	})
}

func BenchmarkValidSignature(b *testing.B) {
	body := payload(b, "issues/opened.json")
	sig := sign(secret, body)
	secrets := [][]byte{[]byte(secret)}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !handlers.ValidSignature(sig, body, secrets...) {
			b.Fatal("invalid")
		}
	}
}
