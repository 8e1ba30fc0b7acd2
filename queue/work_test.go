package queue_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// Pull requests ask for a heartbeat every 500 ms: an iterator that believes a request is
// outstanding when the server has none (a race in nats.go, see pullHeartbeat) asks again after
// two missed ones. With nats.go's default, half the 5 s expiry, a partition paused 4.3-5 s
// with events waiting in one worker benchmark run of two at 2,000 events in flight.
func TestPullRequestsAskForFrequentHeartbeats(t *testing.T) {
	_, s := queuetest.Queue(t, queue.Config{Partitions: 1})
	requests := make(chan *nats.Msg, 16)
	sub, err := s.Conn.ChanSubscribe("$JS.API.CONSUMER.MSG.NEXT."+queue.EventStream+".>", requests)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	it, err := queue.Pull(ctxT(t), s.JS, queue.EventStream, queue.ConsumerName(0), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	go func() { _, _ = it.Next() }() // the iterator asks when first read
	select {
	case m := <-requests:
		var req struct {
			Batch     int           `json:"batch"`
			Expires   time.Duration `json:"expires"`
			Heartbeat time.Duration `json:"idle_heartbeat"`
		}
		if err := json.Unmarshal(m.Data, &req); err != nil {
			t.Fatalf("pull request %s: %v", m.Data, err)
		}
		if req.Batch != 4 || req.Expires != 5*time.Second || req.Heartbeat != 500*time.Millisecond {
			t.Fatalf("pull request %s: want batch 4, expires 5s, heartbeat 500ms", m.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no pull request within 10s")
	}
}
