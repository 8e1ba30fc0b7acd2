package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
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
// requests per second relative to that handler, higher is better). Those ratios compare runs
// made one after the other; "interleaved" serves the three in alternating slices of 96
// requests and reports the median ratio over the turns, which holds up on a busy machine:
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
		newPublish := func(b *testing.B) http.Handler {
			q, _ := queuetest.Queue(b, queue.Config{})
			return publishOnly(q)
		}
		newReceiver := func(b *testing.B) http.Handler {
			q, _ := queuetest.Queue(b, queue.Config{})
			r, err := handlers.NewReceiver(q, []string{secret}, zap.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			return r
		}
		run("bare", func(*testing.B) http.Handler { return bare })
		run("publish", newPublish, "bare")
		run("receiver", newReceiver, "bare", "publish")
		// The same three, in alternating slices of one run: on a machine shared with other
		// work, the load that changes between the runs above falls on all three alike here.
		b.Run(fmt.Sprintf("c=%d/interleaved", clients), func(b *testing.B) {
			interleave(b, clients, post, []string{"bare", "publish", "receiver"},
				[]http.Handler{bare, newPublish(b), newReceiver(b)})
		})
	}
}

// interleaveSlice is how many requests one handler serves in a row before the next one's turn.
const interleaveSlice = 96

// interleave serves handlers in turn, interleaveSlice requests each from clients concurrent
// clients, rotating which goes first; one b.N is one turn of each. It reports the receiver's
// (the last handler's) speed as a multiple of each other's: the median over the turns of the
// ratio of their times.
func interleave(b *testing.B, clients int, post func(*testing.B, *http.Client, string), names []string, hs []http.Handler) {
	urls := make([]string, len(hs))
	for i, h := range hs {
		srv := httptest.NewServer(h)
		defer srv.Close()
		urls[i] = srv.URL
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	slice := func(url string) time.Duration {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Go(func() {
				for next.Add(1) <= interleaveSlice {
					post(b, client, url)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	for _, u := range urls { // connections opened, servers warm
		slice(u)
	}
	last := len(hs) - 1
	ratios := make([][]float64, last)
	turn := 0
	b.ResetTimer()
	for b.Loop() {
		took := make([]time.Duration, len(hs))
		for i := range hs {
			h := (turn + i) % len(hs)
			took[h] = slice(urls[h])
		}
		turn++
		for i := range last {
			ratios[i] = append(ratios[i], float64(took[i])/float64(took[last]))
		}
	}
	b.StopTimer()
	for i := range last {
		slices.Sort(ratios[i])
		b.ReportMetric(ratios[i][len(ratios[i])/2], "x-"+names[i])
	}
	b.ReportMetric(float64(turn*interleaveSlice*len(hs))/b.Elapsed().Seconds(), "req/s")
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
