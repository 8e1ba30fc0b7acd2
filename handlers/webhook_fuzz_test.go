package handlers_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
)

// FuzzReceiver sends arbitrary headers and bodies, signed or not, through the receiver: it never
// panics, answers only statuses of its contract, stores only what carries a valid signature, and
// holds no body bytes afterwards. Seeded with every real payload.
func FuzzReceiver(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "webhooks", "*", "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Base(filepath.Dir(p)), "id-1", "application/json", true, b)
	}
	f.Add("issues", strings.Repeat("x", 201), "application/json", true, []byte("{}"))
	f.Add("ping", "p", "application/x-www-form-urlencoded", true, []byte("payload=%7B%7D"))
	f.Add("", "", "", false, []byte(nil))
	allowed := map[int]bool{200: true, 202: true, 400: true, 401: true, 413: true, 415: true}
	f.Fuzz(func(t *testing.T, event, id, contentType string, signed bool, body []byte) {
		pub := &recordingPublisher{}
		r, err := handlers.NewReceiver(pub, []string{secret}, zap.NewNop(), handlers.WithMaxBody(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		for k, v := range map[string]string{"X-GitHub-Event": event, "X-GitHub-Delivery": id, "Content-Type": contentType} {
			if v != "" {
				req.Header[k] = []string{v}
			}
		}
		if signed {
			req.Header.Set("X-Hub-Signature-256", sign(secret, body))
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if !allowed[w.Code] {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if !signed && (w.Code == 200 || w.Code == 202) {
			t.Fatalf("unsigned delivery answered %d", w.Code)
		}
		if pub.n > 0 && (!signed || len(id) > handlers.MaxDeliveryID) {
			t.Fatalf("stored a delivery that is unsigned or has a %d-byte id", len(id))
		}
		if got := r.InflightBytes(); got != 0 {
			t.Fatalf("%d bytes held after the answer", got)
		}
	})
}
