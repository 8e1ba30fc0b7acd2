package handlers_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// cpuTime is the process's user and system CPU time so far (the embedded server included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchWorker is the worker as serve wires it in dry-run, over q.
func benchWorker(b *testing.B, q *queue.Queue, exec handlers.Executor) *handlers.Worker {
	b.Helper()
	w, err := handlers.NewWorker(handlers.WorkerConfig{Executor: exec, Config: handlers.StaticConfig(rules.DefaultConfig()), Store: q, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// profileHandling profiles the CPU while events are handled (not while they are stored first)
// when TRIAGEBOT_BENCH_CPUPROFILE names a file: the sub-benchmark's name is appended to it.
// The returned function stops the profile.
func profileHandling(b *testing.B) func() {
	b.Helper()
	path := os.Getenv("TRIAGEBOT_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path + "." + strings.ReplaceAll(b.Name(), "/", "-"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Error(err)
		}
	}
}

// BenchmarkWorker measures the worker alone over the embedded JetStream: b.N issues.opened
// events are stored first, then handled by one process in dry-run (memory loads and stores,
// audit records and acknowledgements as in production). Spread: each event its own issue over
// 500 installations; one issue: every event on the same issue. js-msgs/event counts the
// messages the worker sends to JetStream per event (requests, publishes, acks): its round trips.
//
//	go test -run '^$' -bench BenchmarkWorker -benchtime 3000x ./handlers/
//	TRIAGEBOT_BENCH_CPUPROFILE=/tmp/worker.prof go test -run '^$' -bench BenchmarkWorker -benchtime 3000x ./handlers/
func BenchmarkWorker(b *testing.B) {
	for _, bc := range []struct {
		name  string
		route func(i int) (installation, repo int64, number int)
	}{
		{"spread", func(i int) (int64, int64, int) { return int64(i%500 + 1), int64(1000 + i%500), i/500 + 1 }},
		{"one-issue", func(int) (int64, int64, int) { return 1, 1000, 1 }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q, s := queuetest.Queue(b, queue.Config{Partitions: 16})
			body := payload(b, "issues/opened.json")
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				inst, repo, n := bc.route(i)
				if _, err := q.Publish(ctx, queue.Delivery{ID: fmt.Sprintf("d-%d", i), Event: "issues", InstallationID: inst, RepoID: repo, Number: n, Body: body}); err != nil {
					b.Fatal(err)
				}
			}
			w := benchWorker(b, q, handlers.DryRunExecutor{})
			var mu sync.Mutex
			handled, bad := 0, 0
			done := make(chan struct{})
			b.ResetTimer()
			stopProfile := profileHandling(b)
			msgs0 := s.Conn.Stats().OutMsgs
			cpu0, t0 := cpuTime(), time.Now()
			c, err := q.Consume(ctx, w.Handle, benchConsumeOptions(func(o queue.Outcome) {
				mu.Lock()
				defer mu.Unlock()
				if o.Result != "acked" {
					bad++
				}
				if handled++; handled == b.N {
					close(done)
				}
			}))
			if err != nil {
				b.Fatal(err)
			}
			<-done
			elapsed, cpu, msgs := time.Since(t0), cpuTime()-cpu0, s.Conn.Stats().OutMsgs-msgs0
			b.StopTimer()
			stopProfile()
			if err := c.Stop(ctx); err != nil {
				b.Fatal(err)
			}
			if bad > 0 {
				b.Fatalf("%d of %d deliveries not acked", bad, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
			b.ReportMetric(float64(msgs)/float64(b.N), "js-msgs/event")
		})
	}
}

// slowGitHub answers every request after latency, as GitHub answers writes in hundreds of ms.
type slowGitHub struct{ latency time.Duration }

func (s slowGitHub) Execute(ctx context.Context, t rules.Target, actions []rules.Action) ([]rules.Result, error) {
	if len(actions) > 0 {
		select {
		case <-time.After(s.latency):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return handlers.DryRunExecutor{}.Execute(ctx, t, actions)
}

// BenchmarkSlowGitHub sends 100 deliveries a second for 5 s, each a new issue of one of 1,000
// installations, to 1 or 3 worker processes (connections of their own) whose GitHub answers in
// 500 ms, and reports the stored → handled latency and the backlog when sending stops. The
// cold rows make each event take 7 requests in a row, as a new installation's first event does
// (token, configuration, three rounds of code-of-conduct look-ups, label, comment): 3.5 s each,
// so 100 a second need 350 in flight.
//
//	go test -run '^$' -bench BenchmarkSlowGitHub -benchtime 1x ./handlers/
func BenchmarkSlowGitHub(b *testing.B) {
	const rate, seconds, latency = 100, 5, 500 * time.Millisecond
	for _, bc := range []struct {
		procs, requests int
	}{{1, 1}, {3, 1}, {1, 7}, {3, 7}} {
		procs := bc.procs
		name := fmt.Sprintf("processes=%d", procs)
		if bc.requests > 1 {
			name += fmt.Sprintf("/cold-%d-requests", bc.requests)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				cfg := queue.Config{Partitions: 16}
				q, s := queuetest.Queue(b, cfg)
				body := payload(b, "issues/opened.json")
				ctx := context.Background()
				var mu sync.Mutex
				sent := map[string]time.Time{}
				var lat []time.Duration
				total := rate * seconds
				done := make(chan struct{})
				observe := func(o queue.Outcome) {
					mu.Lock()
					defer mu.Unlock()
					if o.Result != "acked" {
						b.Errorf("%s: %s %v", o.Message.DeliveryID, o.Result, o.Err)
					}
					lat = append(lat, time.Since(sent[o.Message.DeliveryID]))
					if len(lat) == total {
						close(done)
					}
				}
				var consumers []*queue.Consumer
				for range procs {
					nc, err := s.Embedded.Connect()
					if err != nil {
						b.Fatal(err)
					}
					defer nc.Close()
					js, err := queue.JetStream(nc)
					if err != nil {
						b.Fatal(err)
					}
					pq, err := queue.Setup(ctx, js, cfg)
					if err != nil {
						b.Fatal(err)
					}
					c, err := pq.Consume(ctx, benchWorker(b, pq, slowGitHub{time.Duration(bc.requests) * latency}).Handle, queue.ConsumeOptions{Observe: observe})
					if err != nil {
						b.Fatal(err)
					}
					consumers = append(consumers, c)
				}
				tick := time.NewTicker(time.Second / rate)
				for i := range total {
					<-tick.C
					id := fmt.Sprintf("d-%d", i)
					mu.Lock()
					sent[id] = time.Now()
					mu.Unlock()
					if _, err := q.Publish(ctx, queue.Delivery{ID: id, Event: "issues", InstallationID: int64(i%1000 + 1), RepoID: int64(5000 + i%1000), Number: i/1000 + 1, Body: body}); err != nil {
						b.Fatal(err)
					}
				}
				tick.Stop()
				mu.Lock()
				backlog := total - len(lat)
				mu.Unlock()
				drain := time.Now()
				select {
				case <-done:
				case <-time.After(2 * time.Minute):
					b.Fatal("not drained within 2 minutes")
				}
				for _, c := range consumers {
					if err := c.Stop(ctx); err != nil {
						b.Fatal(err)
					}
				}
				slices.Sort(lat)
				b.ReportMetric(lat[len(lat)/2].Seconds(), "p50-s")
				b.ReportMetric(lat[len(lat)*99/100].Seconds(), "p99-s")
				b.ReportMetric(float64(backlog), "backlog-at-end")
				b.ReportMetric(time.Since(drain).Seconds(), "drain-s")
			}
		})
	}
}
