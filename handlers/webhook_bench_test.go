package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// BenchmarkReceiver serves a signed 13.5 KB issues.opened over real HTTP (loopback, keep-alive)
// with three handlers, at 1 and 32 concurrent clients, in the same run:
//
//   - bare: read the body, verify the HMAC, answer 202 (the floor);
//   - publish: the same, then publish to an embedded file-store JetStream and await the ack
//     (the receiver's queue.Publish also checks and records the delivery in the ledger);
//   - receiver: handlers.Receiver, the real thing.
//
// The later handlers report their speed as a multiple of the earlier ones' (x-bare, x-publish:
// requests per second relative to that handler, higher is better):
//
//	go test -run '^$' -bench 'Receiver/' -benchmem ./handlers/
func BenchmarkReceiver(b *testing.B) {
	body := payload(b, "issues/opened.json")
	sig := sign(secret, body)
	secrets := [][]byte{[]byte(secret)}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, queue.MaxBody+1))
		if !handlers.ValidSignature(r.Header.Get("X-Hub-Signature-256"), body, secrets...) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	publishOnly := func(q *queue.Queue) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(io.LimitReader(r.Body, queue.MaxBody+1))
			if !handlers.ValidSignature(r.Header.Get("X-Hub-Signature-256"), body, secrets...) {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			// One durable JetStream publish, deduplicated by the delivery id, without the
			// delivery ledger queue.Publish also keeps (two more JetStream round trips).
			msg := &nats.Msg{Subject: queue.Subject(0, 1, 1, 1, "issues"), Data: body}
			if _, err := q.JetStream().PublishMsg(r.Context(), msg, jetstream.WithMsgID(r.Header.Get("X-GitHub-Delivery"))); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		})
	}
	var ids atomic.Int64
	post := func(b *testing.B, client *http.Client, url string) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "issues")
		req.Header.Set("X-GitHub-Delivery", "bench-"+strconv.FormatInt(ids.Add(1), 10))
		req.Header.Set("X-Hub-Signature-256", sig)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	for _, clients := range []int{1, 32} {
		perOp := map[string]time.Duration{}
		run := func(name string, h func(b *testing.B) http.Handler, against ...string) {
			b.Run(fmt.Sprintf("c=%d/%s", clients, name), func(b *testing.B) {
				srv := httptest.NewServer(h(b))
				defer srv.Close()
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
				defer client.CloseIdleConnections()
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				b.ResetTimer()
				if clients == 1 {
					for b.Loop() {
						post(b, client, srv.URL)
					}
				} else {
					b.SetParallelism((clients + 1) / 2) // GOMAXPROCS(2) x 16 goroutines
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							post(b, client, srv.URL)
						}
					})
				}
				perOp[name] = b.Elapsed() / time.Duration(b.N)
				for _, base := range against {
					if perOp[base] > 0 {
						b.ReportMetric(float64(perOp[base])/float64(perOp[name]), "x-"+base)
					}
				}
			})
		}
		run("bare", func(*testing.B) http.Handler { return bare })
		run("publish", func(b *testing.B) http.Handler {
			q, _ := queuetest.Queue(b, queue.Config{})
			return publishOnly(q)
		}, "bare")
		run("receiver", func(b *testing.B) http.Handler {
			q, _ := queuetest.Queue(b, queue.Config{})
			r, err := handlers.NewReceiver(q, []string{secret}, zap.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			return r
		}, "bare", "publish")
	}
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

// BenchmarkParseRouting is the receiver's reading of the routing fields of a 13.5 KB payload.
func BenchmarkParseRouting(b *testing.B) {
	body := payload(b, "issues/opened.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, _, err := handlers.ParseRouting(body); err != nil {
			b.Fatal(err)
		}
	}
}
