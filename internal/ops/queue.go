package ops

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/queue"
)

// PartitionState is one partition's backlog, as its durable consumer sees it.
type PartitionState struct {
	Partition   int
	Pending     uint64    // events stored and not yet acknowledged (waiting + in flight)
	InFlight    int       // delivered, not acknowledged: being handled, or waiting for a retry (backoff, rate limit)
	Redelivered int       // of those, delivered more than once: retries and rate-limit waits
	Oldest      time.Time // when the oldest pending event was stored; zero: none
}

// StreamState is one of triagebot's streams (or buckets, KV_...).
type StreamState struct {
	Name     string
	Messages uint64
	Bytes    uint64
	Replicas int
	Leader   string // the cluster's leader of the stream; empty on a single server
	Cluster  string
}

// QueueSnapshot is what JetStream says about the queue now.
type QueueSnapshot struct {
	Partitions        []PartitionState
	Streams           []StreamState
	DeadLetters       uint64 // events in TRIAGEBOT_DLQ
	NotifyDeadLetters uint64 // notifications in TRIAGEBOT_NOTIFY_DLQ
	Took              time.Duration
	Requests          int // JetStream API requests the snapshot took
}

// Snapshot reads the queue's state: one consumer info and one message lookup per partition, and
// one stream listing. It is what /metrics and the status page show, read at scrape time.
func Snapshot(ctx context.Context, js jetstream.JetStream, partitions int) (QueueSnapshot, error) {
	start := time.Now()
	var snap QueueSnapshot
	streams := js.ListStreams(ctx)
	for info := range streams.Info() {
		name := info.Config.Name
		if !strings.HasPrefix(name, "TRIAGEBOT_") && !strings.HasPrefix(name, "KV_triagebot-") {
			continue
		}
		st := StreamState{Name: name, Messages: info.State.Msgs, Bytes: info.State.Bytes, Replicas: info.Config.Replicas}
		if info.Cluster != nil {
			st.Leader, st.Cluster = info.Cluster.Leader, info.Cluster.Name
		}
		switch name {
		case queue.DLQStream:
			snap.DeadLetters = info.State.Msgs
		case notify.DLQStream:
			snap.NotifyDeadLetters = info.State.Msgs
		}
		snap.Streams = append(snap.Streams, st)
	}
	snap.Requests++
	if err := streams.Err(); err != nil {
		return snap, fmt.Errorf("list streams: %w", err)
	}
	events, err := js.Stream(ctx, queue.EventStream)
	snap.Requests++
	if err != nil {
		return snap, fmt.Errorf("stream %s: %w", queue.EventStream, err)
	}
	for p := range partitions {
		ps := PartitionState{Partition: p}
		cons, err := events.Consumer(ctx, queue.ConsumerName(p))
		snap.Requests++
		if err != nil {
			return snap, fmt.Errorf("consumer %s: %w", queue.ConsumerName(p), err)
		}
		ci := cons.CachedInfo()
		ps.Pending = ci.NumPending + uint64(ci.NumAckPending)
		ps.InFlight, ps.Redelivered = ci.NumAckPending, ci.NumRedelivered
		if ps.Pending > 0 {
			// A work queue keeps only unacknowledged events: the partition's first is its oldest.
			msg, err := events.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(fmt.Sprintf("%s.%d.>", queue.EventSubjects, p)))
			snap.Requests++
			switch {
			case err == nil:
				ps.Oldest = msg.Time
			case !errors.Is(err, jetstream.ErrMsgNotFound):
				return snap, fmt.Errorf("oldest event of partition %d: %w", p, err)
			}
		}
		snap.Partitions = append(snap.Partitions, ps)
	}
	snap.Took = time.Since(start)
	return snap, nil
}

// QueueCollector reads the queue's state from JetStream at each scrape (not from the workers:
// it covers every process's events, and costs nothing between scrapes).
type QueueCollector struct {
	js         jetstream.JetStream
	partitions int
	log        *zap.Logger
}

// NewQueueCollector collects the queue gauges of a queue of so many partitions.
func NewQueueCollector(js jetstream.JetStream, partitions int, log *zap.Logger) *QueueCollector {
	return &QueueCollector{js: js, partitions: partitions, log: log}
}

var (
	pendingDesc = prometheus.NewDesc("triagebot_queue_pending_events",
		"Events stored and not yet acknowledged, per partition.", []string{"partition"}, nil)
	oldestDesc = prometheus.NewDesc("triagebot_queue_oldest_pending_age_seconds",
		"Age of the oldest unacknowledged event, per partition (0: none).", []string{"partition"}, nil)
	redeliveredDesc = prometheus.NewDesc("triagebot_queue_redelivered_events",
		"Unacknowledged events delivered more than once (retries, rate-limit waits), per partition.", []string{"partition"}, nil)
	deadLettersDesc = prometheus.NewDesc("triagebot_dead_letters",
		"Messages in a dead-letter stream (events, notifications).", []string{"queue"}, nil)
	streamMsgsDesc = prometheus.NewDesc("triagebot_stream_messages",
		"Messages in each of triagebot's JetStream streams and buckets.", []string{"stream"}, nil)
	streamBytesDesc = prometheus.NewDesc("triagebot_stream_bytes",
		"Bytes stored by each of triagebot's JetStream streams and buckets.", []string{"stream"}, nil)
	scrapeErrDesc = prometheus.NewDesc("triagebot_queue_scrape_error",
		"1 when the last read of the queue's state from JetStream failed.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{pendingDesc, oldestDesc, redeliveredDesc, deadLettersDesc, streamMsgsDesc, streamBytesDesc, scrapeErrDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := Snapshot(ctx, c.js, c.partitions)
	failed := 0.0
	if err != nil {
		c.log.Warn("queue metrics: JetStream did not answer", zap.Error(err))
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
	if err != nil {
		return // no partial numbers: a missing series is clearer than a wrong one
	}
	now := time.Now()
	for _, p := range snap.Partitions {
		label := strconv.Itoa(p.Partition)
		age := 0.0
		if !p.Oldest.IsZero() {
			age = max(now.Sub(p.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(p.Pending), label)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age, label)
		ch <- prometheus.MustNewConstMetric(redeliveredDesc, prometheus.GaugeValue, float64(p.Redelivered), label)
	}
	ch <- prometheus.MustNewConstMetric(deadLettersDesc, prometheus.GaugeValue, float64(snap.DeadLetters), "events")
	ch <- prometheus.MustNewConstMetric(deadLettersDesc, prometheus.GaugeValue, float64(snap.NotifyDeadLetters), "notifications")
	for _, s := range snap.Streams {
		ch <- prometheus.MustNewConstMetric(streamMsgsDesc, prometheus.GaugeValue, float64(s.Messages), s.Name)
		ch <- prometheus.MustNewConstMetric(streamBytesDesc, prometheus.GaugeValue, float64(s.Bytes), s.Name)
	}
}
