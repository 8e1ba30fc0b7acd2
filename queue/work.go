package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// The pieces below are the one way triagebot keeps work in JetStream: the events (this
// package) and the notifications (internal/notify) are both a work-queue stream with a
// dead-letter stream beside it, durable consumers that let many items be held at once and
// count attempts themselves, a pull loop, keep-alives for what is held, and idempotent
// dead-lettering.

// WorkStream is a work-queue stream (an item leaves it when acknowledged) and the stream its
// dead letters are copied to.
type WorkStream struct {
	Name        string
	Subjects    string // the stream takes Subjects.>
	Description string
	Duplicates  time.Duration // the stream's duplicate window, kept in memory by nats-server
	AllowDirect bool          // direct gets of single items

	DLQ            string
	DLQSubjects    string // the dead-letter stream takes DLQSubjects.>
	DLQDescription string
}

// dlqMaxAge is how long dead letters are kept for a human to retry or drop.
const dlqMaxAge = 30 * 24 * time.Hour

// SetupWorkStream creates or updates w's two streams with the given replicas.
func SetupWorkStream(ctx context.Context, js jetstream.JetStream, w WorkStream, replicas int) error {
	return createStreams(ctx, js, jetstream.StreamConfig{
		Name:        w.Name,
		Description: w.Description,
		AllowDirect: w.AllowDirect,
		Subjects:    []string{w.Subjects + ".>"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Duplicates:  w.Duplicates,
		Discard:     jetstream.DiscardOld,
	}, jetstream.StreamConfig{
		Name:        w.DLQ,
		Description: w.DLQDescription,
		Subjects:    []string{w.DLQSubjects + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		MaxAge:      dlqMaxAge,
	})
}

func createStreams(ctx context.Context, js jetstream.JetStream, streams ...jetstream.StreamConfig) error {
	for _, sc := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("create stream %s: %w", sc.Name, err)
		}
	}
	return nil
}

// WorkConsumer is the configuration of a durable consumer of a work stream: explicit acks, many
// items held at once (their holder orders or batches them), and no delivery limit, as the
// holder counts attempts and dead-letters the last one itself.
func WorkConsumer(name, description, filter string, ackWait time.Duration, replicas int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       name,
		Description:   description,
		FilterSubject: filter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: maxAckPending,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		Replicas:      replicas,
	}
}

// Pull opens a pull iterator on a durable consumer that buffers up to batch items. Its pull
// requests expire after pullExpiry rather than 30 s: when a buffered message outlived AckWait
// (a full process) and was delivered again, the iterator stalled until its request expired
// (seen as 30 s pauses in the worker benchmark). They ask for a heartbeat every
// pullHeartbeat, not half the expiry: see there.
func Pull(ctx context.Context, js jetstream.JetStream, stream, consumer string, batch int) (jetstream.MessagesContext, error) {
	cons, err := js.Consumer(ctx, stream, consumer)
	if err != nil {
		return nil, err
	}
	return cons.Messages(jetstream.PullMaxMessages(batch), jetstream.PullExpiry(pullExpiry), jetstream.PullHeartbeat(pullHeartbeat))
}

const pullExpiry = 5 * time.Second

// pullHeartbeat bounds how long a partition can sit idle with events waiting: an iterator that
// misses two heartbeats asks again. nats.go (v1.55.0) can end up believing a pull request is
// outstanding when the server has none: it sends no new request while the previous one is
// still being published, and checks again only when a message or status arrives; if the
// previous requests' messages all come in that window, none does. The worker benchmark at
// 2,000 events in flight paused 4.3-5 s in one run of two with nats.go's default (half the
// expiry); with 1 s heartbeats at most 1.9 s, with 500 ms at most 0.8 s. A heartbeat missed
// by a process starved of CPU for a second only asks for a batch more.
const pullHeartbeat = 500 * time.Millisecond

// Next is the next item of it. A failed fetch is logged and tried again (JetStream's pull
// requests recover on their own); false means the iterator was stopped or drained.
func Next(it jetstream.MessagesContext, log *zap.Logger, consumer string) (jetstream.Msg, bool) {
	for {
		msg, err := it.Next()
		if err == nil {
			return msg, true
		}
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return nil, false
		}
		log.Warn("fetch from consumer", zap.String("consumer", consumer), zap.Error(err))
	}
}

// KeepAlive tells JetStream, every so often until stop is closed, that the items held() returns
// are still being worked on, so that a slow send or a long wait in line does not get them
// redelivered to another process. The returned func stops it and waits.
func KeepAlive(every time.Duration, held func() []jetstream.Msg) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				for _, m := range held() {
					_ = m.InProgress()
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}

// SendToDeadLetters copies msg's data with header to subject in the dead-letter stream, then
// terminates msg. The copy's id is idPrefix and msg's stream sequence, so a copy made again
// after a lost Term is dropped as a duplicate. If the copy fails msg is left as it is and the
// error returned: the caller retries it, nothing is dropped.
func SendToDeadLetters(ctx context.Context, js jetstream.JetStream, msg jetstream.Msg, stream, subject, idPrefix string, header nats.Header) error {
	var seq uint64
	if md, err := msg.Metadata(); err == nil {
		seq = md.Sequence.Stream
	}
	dl := &nats.Msg{Subject: subject, Data: msg.Data(), Header: header}
	if _, err := js.PublishMsg(ctx, dl, jetstream.WithMsgID(fmt.Sprintf("%s-%d", idPrefix, seq)), jetstream.WithExpectStream(stream)); err != nil {
		return err
	}
	_ = msg.TermWithReason("dead-lettered")
	return nil
}
