package queue_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// BenchmarkRateLimitedNeighbour: installation A has spent its primary rate limit (every event
// of A is answered "wait 5 s" until then), and installation B, sharing A's only partition,
// sends 20 events a second for 3 s. Reported: B's stored → handled latency.
//
//	go test -run '^$' -bench BenchmarkRateLimitedNeighbour -benchtime 1x ./queue/
func BenchmarkRateLimitedNeighbour(b *testing.B) {
	for range b.N {
		q, _ := queuetest.Queue(b, queue.Config{Partitions: 1})
		ctx := context.Background()
		resetAt := time.Now().Add(5 * time.Second)
		var mu sync.Mutex
		sent := map[string]time.Time{}
		var lat []time.Duration
		const bEvents = 60
		done := make(chan struct{})
		c, err := q.Consume(ctx, func(ctx context.Context, m queue.Message) error {
			if m.InstallationID == 1 {
				if wait := time.Until(resetAt); wait > 0 {
					return rateLimited(wait)
				}
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, time.Since(sent[m.DeliveryID]))
			if len(lat) == bEvents {
				close(done)
			}
			return nil
		}, queue.ConsumeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range 10 { // A's events, first
			if _, err := q.Publish(ctx, queue.Delivery{ID: fmt.Sprintf("a-%d", i), Event: "issues", InstallationID: 1, RepoID: 10, Number: i + 1, Body: []byte(`{}`)}); err != nil {
				b.Fatal(err)
			}
		}
		tick := time.NewTicker(50 * time.Millisecond)
		for i := range bEvents {
			<-tick.C
			id := fmt.Sprintf("b-%d", i)
			mu.Lock()
			sent[id] = time.Now()
			mu.Unlock()
			if _, err := q.Publish(ctx, queue.Delivery{ID: id, Event: "issues", InstallationID: 2, RepoID: 20, Number: i + 1, Body: []byte(`{}`)}); err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		select {
		case <-done:
		case <-time.After(time.Minute):
			b.Fatal("B's events not handled within a minute")
		}
		if err := c.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		slices.Sort(lat)
		b.ReportMetric(lat[len(lat)/2].Seconds()*1000, "B-p50-ms")
		b.ReportMetric(lat[len(lat)*99/100].Seconds()*1000, "B-p99-ms")
	}
}
