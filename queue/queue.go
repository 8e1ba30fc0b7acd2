// Package queue holds everything triagebot keeps in NATS JetStream: the event stream and its
// per-partition consumers, the dead letters, the audit trail and the key-value buckets
// (DESIGN.md §4). Every stream, consumer and bucket is made here, in one way (work.go); the
// notification queue (internal/notify) is made and consumed with the same pieces.
package queue

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of the streams, subjects and buckets.
const (
	EventStream   = "TRIAGEBOT_EVENTS"
	EventSubjects = "triagebot.events"
	DLQStream     = "TRIAGEBOT_DLQ"
	DLQSubjects   = "triagebot.dlq"
	AuditStream   = "TRIAGEBOT_AUDIT"
	AuditSubjects = "triagebot.audit"
	MemoryBucket  = "triagebot-memory"
	ConfigBucket  = "triagebot-config"
)

// Headers carried by every stored event, and added to dead letters.
const (
	HeaderEvent    = "X-GitHub-Event"
	HeaderDelivery = "X-GitHub-Delivery"
	HeaderReceived = "Triagebot-Received-At"

	HeaderDLQReason   = "Triagebot-DLQ-Reason"
	HeaderDLQAttempts = "Triagebot-DLQ-Attempts"
	HeaderDLQSubject  = "Triagebot-DLQ-Subject"
	HeaderDLQStream   = "Triagebot-DLQ-Stream-Seq"
	HeaderDLQAt       = "Triagebot-DLQ-At"
)

// Config sizes the queue. The zero value of a field means its default.
type Config struct {
	Partitions  int           // parallelism: one durable consumer each (default 16)
	DedupWindow time.Duration // how long a delivery id is remembered (default 72h, at least 1h)
	Replicas    int           // stream replicas: 1 embedded, 3 on a cluster (default 1)
	MaxAttempts int           // deliveries of one event before it is dead-lettered (default 10)
	AckWait     time.Duration // how soon an event held by a dead worker is redelivered (default 5s; live workers renew theirs)
	AuditMaxAge time.Duration // how long audit records are kept (default 90 days)
}

func (c Config) withDefaults() (Config, error) {
	if c.Partitions == 0 {
		c.Partitions = 16
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = DefaultDedupWindow
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.AuditMaxAge == 0 {
		c.AuditMaxAge = 90 * 24 * time.Hour
	}
	switch {
	case c.Partitions < 1 || c.Partitions > 1024:
		return c, fmt.Errorf("partitions: %d is not between 1 and 1024", c.Partitions)
	case c.DedupWindow < time.Hour:
		return c, fmt.Errorf("dedup window: %s is shorter than GitHub's redelivery needs (at least 1h)", c.DedupWindow)
	case c.Replicas < 1 || c.Replicas > 5:
		return c, fmt.Errorf("replicas: %d is not between 1 and 5", c.Replicas)
	case c.AckWait < time.Second:
		return c, fmt.Errorf("ack wait: %s is shorter than 1s", c.AckWait)
	case c.MaxAttempts < 1:
		return c, fmt.Errorf("max attempts: %d is less than 1", c.MaxAttempts)
	}
	return c, nil
}

// DefaultAckWait is how long JetStream waits for a worker that holds an event: a live worker
// renews what it holds well within it (keepAlive), so it only delays the events of a worker
// that died.
const DefaultAckWait = 5 * time.Second

// DeliveryPartition is the partition of a delivery: its issue's, or for an event of no
// repository (installation, installation_repositories) its installation's, so that
// installations' events are spread rather than all in one partition.
func DeliveryPartition(installationID, repoID int64, number, n int) int {
	if repoID == 0 {
		h := fnv.New32a()
		h.Write([]byte("installation."))
		h.Write([]byte(strconv.FormatInt(installationID, 10)))
		return int(h.Sum32() % uint32(n))
	}
	return Partition(repoID, number, n)
}

// Partition is the stable partition of an issue: FNV-1a of "repo.number" modulo n.
func Partition(repoID int64, number, n int) int {
	h := fnv.New32a()
	h.Write([]byte(strconv.FormatInt(repoID, 10)))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.Itoa(number)))
	return int(h.Sum32() % uint32(n))
}

// Subject is the event's subject. It carries numbers only: names may contain dots.
func Subject(partition int, installationID, repoID int64, number int, event string) string {
	return fmt.Sprintf("%s.%d.%d.%d.%d.%s", EventSubjects, partition, installationID, repoID, number, event)
}

// ConsumerName is the durable consumer of a partition.
func ConsumerName(partition int) string { return fmt.Sprintf("partition-%03d", partition) }

// partitionOf is the partition a consumer name stands for.
func partitionOf(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "partition-")
	if !ok {
		return 0, false
	}
	p, err := strconv.Atoi(digits)
	return p, err == nil && p >= 0 && ConsumerName(p) == name
}

// maxAckPending bounds the items of one consumer delivered and not yet settled, over every
// process together: a partition's events, a notification channel's digest.
const maxAckPending = 10_000

// consumerNames are the consumers of the given partitions, or, for nil, every partition
// consumer in the store, including those of a larger partition count used before.
func (q *Queue) consumerNames(ctx context.Context, partitions []int) ([]string, error) {
	var names []string
	if partitions != nil {
		for _, p := range partitions {
			names = append(names, ConsumerName(p))
		}
		return names, nil
	}
	stream, err := q.js.Stream(ctx, EventStream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", EventStream, err)
	}
	lister := stream.ConsumerNames(ctx)
	for name := range lister.Name() {
		if _, ok := partitionOf(name); ok {
			names = append(names, name)
		}
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("list consumers of %s: %w", EventStream, err)
	}
	for p := 0; p < q.cfg.Partitions; p++ {
		names = append(names, ConsumerName(p))
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// takeOver makes the events a killed predecessor held deliverable at once: this process is the
// store's only consumer, so a consumer with events pending is created again, which delivers
// every event still in the stream from the first (nothing leaves a work queue unacknowledged).
func (q *Queue) takeOver(ctx context.Context, names []string) error {
	for _, name := range names {
		cons, err := q.js.Consumer(ctx, EventStream, name)
		if err != nil {
			return fmt.Errorf("consumer %s: %w", name, err)
		}
		info := cons.CachedInfo()
		if info.NumAckPending == 0 && info.NumRedelivered == 0 {
			continue
		}
		p, _ := partitionOf(name)
		if err := q.js.DeleteConsumer(ctx, EventStream, name); err != nil {
			return fmt.Errorf("take over %s: %w", name, err)
		}
		if _, err := q.js.CreateOrUpdateConsumer(ctx, EventStream, consumerConfig(q.cfg, p)); err != nil {
			return fmt.Errorf("take over %s: %w", name, err)
		}
	}
	return nil
}

// Queue is the set-up queue: streams, consumers and buckets exist.
type Queue struct {
	js     jetstream.JetStream
	cfg    Config
	memory jetstream.KeyValue
	config jetstream.KeyValue
	ledger jetstream.KeyValue // delivery ids within the dedup window (ledger.go)
	// delivery ids the reconciler asked GitHub to redeliver (ledger.go)
	redeliveries jetstream.KeyValue
}

// Setup creates or updates every stream, consumer and bucket. It is idempotent and safe to run
// from every process at start.
func Setup(ctx context.Context, js jetstream.JetStream, cfg Config) (*Queue, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("queue config: %w", err)
	}
	if err := SetupWorkStream(ctx, js, WorkStream{
		Name:        EventStream,
		Subjects:    EventSubjects,
		Description: "GitHub webhook deliveries, partitioned per issue",
		// Workers look up the first event of an issue for every event they handle: direct gets
		// skip the API's JSON. A replica that lags can only show an event that is gone, which
		// makes a worker wait, never one that is not first.
		AllowDirect: true,
		// Drops near copies before they are stored; the ledger remembers handled ids for the
		// whole window (the workers skip a later copy), which this in-memory table cannot.
		Duplicates:     min(cfg.DedupWindow, streamDedupCap),
		DLQ:            DLQStream,
		DLQSubjects:    DLQSubjects,
		DLQDescription: "events the workers gave up on, with the reason and the original headers",
	}, cfg.Replicas); err != nil {
		return nil, err
	}
	if err := createStreams(ctx, js, jetstream.StreamConfig{
		Name:        AuditStream,
		Description: "one record per action the bot decided, with rule, reason and outcome",
		Subjects:    []string{AuditSubjects + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		MaxAge:      cfg.AuditMaxAge,
		// Longer than the retries of an event whose audit write failed (AuditID).
		Duplicates: 15 * time.Minute,
	}); err != nil {
		return nil, err
	}
	q := &Queue{js: js, cfg: cfg}
	// The consumers of a larger partition count used before stay, and are consumed, until
	// their events are handled: changing the count strands nothing (see consumerNames).
	names, err := q.consumerNames(ctx, nil)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		p, _ := partitionOf(name)
		if _, err := js.CreateOrUpdateConsumer(ctx, EventStream, consumerConfig(cfg, p)); err != nil {
			return nil, fmt.Errorf("create consumer %s: %w", name, err)
		}
	}
	if err := q.setupLedger(ctx); err != nil {
		return nil, err
	}
	if q.memory, err = Bucket(ctx, js, MemoryBucket, "the bot's memory of each issue and repository", cfg.Replicas, 0); err != nil {
		return nil, err
	}
	if q.config, err = Bucket(ctx, js, ConfigBucket, "repository configuration files with their ETags", cfg.Replicas, 0); err != nil {
		return nil, err
	}
	return q, nil
}

// consumerConfig is partition p's consumer. It holds many events in flight: the workers keep
// each issue's order themselves (order.go) and bound what they hold (ConsumeOptions.MaxInFlight).
func consumerConfig(cfg Config, p int) jetstream.ConsumerConfig {
	return WorkConsumer(ConsumerName(p), fmt.Sprintf("events of the issues in partition %d, in order per issue", p),
		fmt.Sprintf("%s.%d.>", EventSubjects, p), cfg.AckWait, cfg.Replicas)
}

// Config is the queue's effective configuration.
func (q *Queue) Config() Config { return q.cfg }

// JetStream is the underlying JetStream context.
func (q *Queue) JetStream() jetstream.JetStream { return q.js }

// ConfigBucket is the repository configuration cache.
func (q *Queue) ConfigBucket() jetstream.KeyValue { return q.config }

// Ready reports whether JetStream answers.
func (q *Queue) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := q.js.AccountInfo(ctx)
	return err
}

// ErrTooLarge means the NATS server refuses a message that big (its max_payload).
var ErrTooLarge = errors.New("message exceeds the NATS server's max_payload")
