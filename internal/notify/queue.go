package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triagebot/triagebot/queue"
)

// Names of the stream, subjects and bucket of notifications. They do not overlap with the
// queue package's (triagebot.events, triagebot.dlq, triagebot.audit), whose pieces make and
// consume them (queue/work.go).
const (
	Stream      = "TRIAGEBOT_NOTIFY"
	Subjects    = "triagebot.notify"
	DLQStream   = "TRIAGEBOT_NOTIFY_DLQ"
	DLQSubjects = "triagebot.notify-dlq"
	SentBucket  = "triagebot-notify-sent"
)

// Headers of a dead-lettered notification.
const (
	HeaderDLQReason   = "Triagebot-DLQ-Reason"
	HeaderDLQAttempts = "Triagebot-DLQ-Attempts"
	HeaderDLQChannel  = "Triagebot-DLQ-Channel"
	HeaderDLQAt       = "Triagebot-DLQ-At"
)

// Config sizes the notification queue. The zero value of a field means its default.
type Config struct {
	Channels    map[string]ChannelConfig // from ParseChannels; one consumer each
	Replicas    int                      // 1 embedded, 3 on a cluster (default 1)
	DedupWindow time.Duration            // how long the stream remembers an ID (default 2h)
	SentTTL     time.Duration            // how long a sent ID is remembered (default 7 days)
}

func (c Config) withDefaults() (Config, error) {
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.DedupWindow == 0 {
		c.DedupWindow = 2 * time.Hour
	}
	if c.SentTTL == 0 {
		c.SentTTL = 7 * 24 * time.Hour
	}
	switch {
	case c.Replicas < 1 || c.Replicas > 5:
		return c, fmt.Errorf("replicas: %d is not between 1 and 5", c.Replicas)
	case c.SentTTL < c.DedupWindow:
		return c, fmt.Errorf("sent TTL %s is shorter than the dedup window %s", c.SentTTL, c.DedupWindow)
	}
	for name, ch := range c.Channels {
		switch {
		case ch.Name != name:
			return c, fmt.Errorf("channel %q is configured under the name %q", ch.Name, name)
		case !slices.Contains(channelTypes, ch.Type):
			return c, fmt.Errorf("channel %s: unknown type %q", name, ch.Type)
		case ch.Digest < 0:
			return c, fmt.Errorf("channel %s: negative digest %s", name, ch.Digest)
		}
	}
	return c, nil
}

// Queue is the set-up notification queue: its streams, consumers and bucket exist.
type Queue struct {
	js   jetstream.JetStream
	cfg  Config
	sent jetstream.KeyValue
}

// Setup creates or updates the notification stream, its dead letters, one durable consumer per
// channel and the bucket of sent IDs. It is idempotent and safe to run from every process.
func Setup(ctx context.Context, js jetstream.JetStream, cfg Config) (*Queue, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("notify config: %w", err)
	}
	if err := queue.SetupWorkStream(ctx, js, queue.WorkStream{
		Name:           Stream,
		Subjects:       Subjects,
		Description:    "notifications waiting for their channel's digest",
		Duplicates:     cfg.DedupWindow,
		DLQ:            DLQStream,
		DLQSubjects:    DLQSubjects,
		DLQDescription: "notifications a channel refused, with the reason",
	}, cfg.Replicas); err != nil {
		return nil, err
	}
	for _, name := range sortedNames(cfg.Channels) {
		cc := consumerConfig(cfg, cfg.Channels[name])
		if _, err := js.CreateOrUpdateConsumer(ctx, Stream, cc); err != nil {
			return nil, fmt.Errorf("create consumer %s: %w", cc.Durable, err)
		}
	}
	q := &Queue{js: js, cfg: cfg}
	if q.sent, err = queue.Bucket(ctx, js, SentBucket, "IDs of notifications already sent, so that a redelivery is not sent again",
		cfg.Replicas, cfg.SentTTL); err != nil {
		return nil, err
	}
	return q, nil
}

func sortedNames(m map[string]ChannelConfig) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// sendGrace is how long a notification may stay unacknowledged past its digest window before
// JetStream redelivers it; the dispatcher renews it while sending.
const sendGrace = 2 * time.Minute

// ackWait covers a whole digest window plus sending: a held notification is not redelivered
// to another process while it waits for its digest.
func ackWait(ch ChannelConfig) time.Duration { return ch.Digest + sendGrace }

// consumerConfig is a channel's consumer: a digest holds many notifications unacknowledged at
// once, and the dispatcher counts attempts and dead-letters the last one itself.
func consumerConfig(cfg Config, ch ChannelConfig) jetstream.ConsumerConfig {
	return queue.WorkConsumer(ConsumerName(ch.Name), fmt.Sprintf("notifications for channel %s", ch.Name), Subject(ch.Name),
		ackWait(ch), cfg.Replicas)
}

// token is a channel name as one subject token and consumer name: '.' would split a subject, so
// '_' and '.' are escaped as _5F and _2E (reversibly: names cannot collide).
func token(channel string) string {
	r := strings.NewReplacer("_", "_5F", ".", "_2E")
	return r.Replace(channel)
}

// Subject is the subject of a channel's notifications.
func Subject(channel string) string { return Subjects + "." + token(channel) }

// ConsumerName is the durable consumer of a channel.
func ConsumerName(channel string) string { return "notify-" + token(channel) }

func sentKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// ErrUnknownChannel means a notification names a channel the server configuration lacks.
var ErrUnknownChannel = errors.New("unknown notification channel")

// Enqueue stores n for its channel's dispatcher and returns once JetStream has it. An ID
// already enqueued within the dedup window is accepted and dropped.
func (q *Queue) Enqueue(ctx context.Context, n Notification) error {
	if err := n.validate(); err != nil {
		return err
	}
	if _, ok := q.cfg.Channels[n.Channel]; !ok {
		return fmt.Errorf("enqueue notification %s for %q: %w", n.ID, n.Channel, ErrUnknownChannel)
	}
	if n.At.IsZero() {
		n.At = time.Now().UTC()
	}
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode notification %s: %w", n.ID, err)
	}
	msg := &nats.Msg{Subject: Subject(n.Channel), Data: data}
	if _, err := q.js.PublishMsg(ctx, msg, jetstream.WithMsgID(n.ID), jetstream.WithExpectStream(Stream)); err != nil {
		return fmt.Errorf("enqueue notification %s: %w", n.ID, err)
	}
	return nil
}

// Channels are the configured channels, by name.
func (q *Queue) Channels() map[string]ChannelConfig { return q.cfg.Channels }
