package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Message is one stored event, as a handler sees it.
type Message struct {
	Subject        string
	Partition      int
	InstallationID int64
	RepoID         int64
	Number         int
	Event          string
	DeliveryID     string
	Body           []byte
	Attempt        int       // 1 on the first delivery
	Stored         time.Time // when JetStream stored the delivery (the event lag starts here)
	LastAttempt    bool      // a transient failure now dead-letters the event
}

// Handler works on one event. Its error decides what happens to the message:
//   - nil: acknowledged, done;
//   - an error with a RetryAfter() time.Duration method (a rate limit): retried after that long;
//   - an error with Permanent() bool returning true, or any error on the last attempt:
//     dead-lettered with the error as the reason;
//   - any other error: retried with exponential backoff.
type Handler func(ctx context.Context, m Message) error

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() error   { return e.err }
func (e permanentError) Permanent() bool { return true }

// Permanent marks err as one that retrying cannot fix: the event is dead-lettered at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, says it is permanent.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// RetryAfter is the wait an error asks for (a rate limit), and whether it asks for one.
func RetryAfter(err error) (time.Duration, bool) {
	var r interface{ RetryAfter() time.Duration }
	if errors.As(err, &r) {
		return r.RetryAfter(), true
	}
	return 0, false
}

// Outcome is what became of one delivery of an event.
type Outcome struct {
	Message  Message
	Result   string // acked, duplicate (handled before: acked), retry, rate_limited, dead_lettered, interrupted
	Err      error
	Duration time.Duration
}

// ConsumeOptions tune Consume.
type ConsumeOptions struct {
	Logger     *zap.Logger
	Partitions []int         // which partitions this process takes; nil: every partition consumer in the store
	Observe    func(Outcome) // called after each delivery, for metrics and tests
	// Backoff is the delay before retrying a transient failure (default Backoff).
	Backoff func(attempt int) time.Duration
	// MaxInFlight bounds the events this process holds at once, being handled or waiting for
	// an earlier event of their issue (default DefaultMaxInFlight). It is the number of issues
	// handled at once, whatever the partition count.
	MaxInFlight int
	// Takeover says this process is the only consumer of the store (the embedded server): the
	// events a killed predecessor held are redelivered at once rather than after AckWait.
	Takeover bool
	// SlowAfter is how long an event is held, unsettled, before a warning says so (again each
	// time as long passes): a handler waiting on something that never answers shows there,
	// since the event is kept alive meanwhile (default DefaultSlowAfter).
	SlowAfter time.Duration
}

// DefaultSlowAfter is when a held event is reported slow unless told otherwise: a minute is
// many GitHub round trips, and under GitHub's longest usual rate-limit waits.
const DefaultSlowAfter = time.Minute

// DefaultMaxInFlight is how many events one process holds at once unless told otherwise. A new
// installation's first event once made about seven GitHub requests in a row (3.5 s at GitHub's
// 500 ms): 100 such events a second needed 350 in flight, which 256 could not hold (issue 13).
// It now waits on two round trips before its label and four or more in all (token;
// configuration and code of conduct; label; welcome), so the default leaves room for a slower
// GitHub.
// More is not better: at 1000 the worker benchmark's burst (spread) ran 4-5 times slower.
const DefaultMaxInFlight = 512

// Consumer runs the partitions' consumers of this process. Each partition's consumer lets
// many events be delivered at once; the Consumer serialises them per issue (see order.go), so
// that per-issue order holds across any number of processes while as many issues as
// MaxInFlight allows are handled at once.
type Consumer struct {
	q       *Queue
	h       Handler
	log     *zap.Logger
	observe func(Outcome)
	backoff func(attempt int) time.Duration
	slow    time.Duration // ConsumeOptions.SlowAfter

	slots   chan struct{} // one per held event
	stopped chan struct{} // closed by Stop: take nothing new
	order   *ordering

	hardCtx       context.Context // cancelled when Stop's grace runs out: interrupts handlers
	hardCancel    context.CancelFunc
	iters         []jetstream.MessagesContext
	wg            sync.WaitGroup // the partitions' loops and the issues' runners
	stopKeepAlive func()         // stops keepAlive and waits for it
	stopOnce      sync.Once
}

// Consume starts taking events from the partitions, in order per issue.
func (q *Queue) Consume(ctx context.Context, h Handler, opts ConsumeOptions) (*Consumer, error) {
	c := &Consumer{q: q, h: q.Once(h), log: opts.Logger, observe: opts.Observe, backoff: opts.Backoff, slow: opts.SlowAfter, stopped: make(chan struct{})}
	if c.backoff == nil {
		c.backoff = Backoff
	}
	if c.slow == 0 {
		c.slow = DefaultSlowAfter
	}
	if c.slow < 0 {
		return nil, fmt.Errorf("slow after: %s is negative", c.slow)
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	n := opts.MaxInFlight
	if n == 0 {
		n = DefaultMaxInFlight
	}
	if n < 1 {
		return nil, fmt.Errorf("max in flight: %d is less than 1", n)
	}
	c.slots = make(chan struct{}, n)
	c.order = newOrdering(c)
	names, err := q.consumerNames(ctx, opts.Partitions)
	if err != nil {
		return nil, err
	}
	if opts.Takeover {
		if err := q.takeOver(ctx, names); err != nil {
			return nil, err
		}
		// The only consumer, and each issue in one partition (no consumers of an older
		// partition count): events arrive in stream order but for those this process gave back.
		c.order.exclusive = len(names) == q.cfg.Partitions && opts.Partitions == nil
	}
	c.hardCtx, c.hardCancel = context.WithCancel(context.WithoutCancel(ctx))
	// A partition buffers a few events beyond the held ones; they are not kept alive until held.
	batch := max(1, min(n, 32))
	for _, name := range names {
		it, err := Pull(ctx, q.js, EventStream, name, batch)
		if err == nil {
			c.iters = append(c.iters, it)
			c.wg.Add(1)
			go c.loop(name, it)
			continue
		}
		c.stopIters()
		c.hardCancel()
		c.wg.Wait()
		return nil, fmt.Errorf("consume %s: %w", name, err)
	}
	c.stopKeepAlive = sync.OnceFunc(c.keepAlive()) // Stop may be called again
	return c, nil
}

func (c *Consumer) stopIters() {
	for _, it := range c.iters {
		it.Stop()
	}
}

// Stop takes no new events, lets the ones being handled finish until ctx is done (then
// interrupts them: they are retried, by this process after a restart or by another), hands
// back the ones not started, and waits.
func (c *Consumer) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() {
		close(c.stopped)
		for _, it := range c.iters {
			it.Drain()
		}
	})
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("stop consumers: %w", ctx.Err())
	}
	c.hardCancel()
	<-done
	c.stopKeepAlive()
	return err
}

func (c *Consumer) stopping() bool {
	select {
	case <-c.stopped:
		return true
	default:
		return false
	}
}

// loop takes a partition's events as long as this process has room for them.
func (c *Consumer) loop(name string, it jetstream.MessagesContext) {
	defer c.wg.Done()
	for {
		held := true
		select {
		case c.slots <- struct{}{}:
		case <-c.stopped:
			held = false
		}
		msg, ok := Next(it, c.log, name)
		if !ok {
			if held {
				<-c.slots
			}
			return
		}
		if !held || c.stopping() {
			// Stopping: give it back at once for another process (or the next start).
			_ = msg.Nak()
			if held {
				<-c.slots
			}
			continue
		}
		c.accept(msg)
	}
}

// accept takes a delivered event into its issue's line.
func (c *Consumer) accept(msg jetstream.Msg) {
	start := time.Now()
	m, seq, err := decodeMessage(msg)
	if err != nil {
		// Not ours to understand: keep it for a human rather than lose it.
		c.deadLetter(msg, m, fmt.Errorf("undecodable message: %w", err))
		c.done(Outcome{Message: m, Result: "dead_lettered", Err: err, Duration: time.Since(start)})
		<-c.slots
		return
	}
	c.order.add(&held{msg: msg, m: m, seq: seq, since: start, renewed: start})
}

// handle runs the handler on an event that is first in its issue's line and settles it.
// It reports whether the event went back to the stream (to be delivered again).
func (c *Consumer) handle(msg jetstream.Msg, m Message) (returned bool) {
	m.LastAttempt = m.Attempt >= c.q.cfg.MaxAttempts
	start := time.Now()
	err := c.call(m)

	out := Outcome{Message: m, Err: err}
	switch wait, limited := RetryAfter(err); {
	case err == nil, errors.Is(err, errAlreadyHandled):
		out.Result = "acked"
		if err != nil {
			out.Result, out.Err = "duplicate", nil
		}
		// Not waited for: the ledger already says handled, so should the ack be lost the copy
		// delivered again is acknowledged unhandled; and the next event is looked up
		// after this one (line.done), so its order does not wait for JetStream's answer either.
		if aerr := msg.Ack(); aerr != nil {
			c.log.Warn("ack event", zap.String("delivery_id", m.DeliveryID), zap.Error(aerr))
		}
	case c.hardCtx.Err() != nil:
		out.Result = "interrupted"
		_ = msg.Nak()
	case limited:
		// GitHub decides how long; a rate limit does not make an event hopeless. The
		// installation's other events are set aside as well until then.
		out.Result = "rate_limited"
		c.order.limit(m.InstallationID, wait)
		c.log.Warn("event will be retried after GitHub's rate limit", zap.String("delivery_id", m.DeliveryID),
			zap.String("event", m.Event), zap.Duration("wait", wait), zap.Error(err))
		_ = msg.NakWithDelay(wait)
	case IsPermanent(err) || m.LastAttempt:
		out.Result = "dead_lettered"
		c.deadLetter(msg, m, err)
	default:
		out.Result = "retry"
		delay := c.backoff(m.Attempt)
		c.log.Warn("event will be retried", zap.String("delivery_id", m.DeliveryID), zap.String("event", m.Event),
			zap.Int("attempt", m.Attempt), zap.Duration("delay", delay), zap.Error(err))
		_ = msg.NakWithDelay(delay)
	}
	out.Duration = time.Since(start)
	c.done(out)
	return out.Result != "acked" && out.Result != "duplicate"
}

// call runs the handler. A panic is a bug in triagebot, not a fault of the moment: it is logged
// with its stack and becomes a permanent error, so the event is dead-lettered at once instead
// of crashing the process on every redelivery.
func (c *Consumer) call(m Message) (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("panic while handling an event", zap.String("delivery_id", m.DeliveryID),
				zap.String("event", m.Event), zap.String("subject", m.Subject), zap.Any("panic", v),
				zap.String("stack", string(debug.Stack())))
			err = Permanent(fmt.Errorf("panic: %v", v))
		}
	}()
	return c.h(c.hardCtx, m)
}

func (c *Consumer) done(o Outcome) {
	if c.observe != nil {
		c.observe(o)
	}
}

// keepAlive tells JetStream that every held event is still being worked on, so a slow GitHub
// (or a long line before an event) does not make it redeliver the event to another worker:
// AckWait can then be short (a killed worker's events go to another that soon), as long as
// this process lives. An event is renewed once a third of AckWait has passed since JetStream
// last heard of it, so the events handled quickly (most) cost no message. An event held
// longer than SlowAfter is reported, so that one kept alive for ever does not go unseen.
func (c *Consumer) keepAlive() (stop func()) {
	wait := c.q.cfg.AckWait
	return KeepAlive(min(wait, c.slow)/6, func() []jetstream.Msg {
		now := time.Now()
		due, slow := c.order.due(now.Add(-wait/3), now, c.slow)
		for _, h := range slow {
			c.log.Warn("event held for long without being settled", zap.String("delivery_id", h.m.DeliveryID),
				zap.String("event", h.m.Event), zap.String("subject", h.m.Subject), zap.Int("attempt", h.m.Attempt),
				zap.Duration("held", now.Sub(h.since).Round(time.Second)), zap.Bool("handling", h.running))
		}
		return due
	})
}

// Backoff is the delay before retry attempt+1 after a transient failure: 1s, 2s, 4s, ... 5m.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 10 {
		return 5 * time.Minute
	}
	return min(time.Second<<(attempt-1), 5*time.Minute)
}

// deadLetter copies the message, its headers, the reason and the attempt count to the
// dead-letter stream, then terminates it. If the copy fails the message is retried instead:
// nothing is dropped.
func (c *Consumer) deadLetter(msg jetstream.Msg, m Message, reason error) {
	log := c.log.With(zap.String("delivery_id", m.DeliveryID), zap.String("event", m.Event))
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.hardCtx), 5*time.Second)
	defer cancel()
	if err := c.q.publishDeadLetter(ctx, msg, m, reason); err != nil {
		log.Error("dead-letter event: will retry it", zap.Error(err))
		_ = msg.NakWithDelay(c.backoff(m.Attempt))
		return
	}
	log.Error("event dead-lettered", zap.Int("attempts", m.Attempt), zap.NamedError("reason", reason))
}

func (q *Queue) publishDeadLetter(ctx context.Context, msg jetstream.Msg, m Message, reason error) error {
	h := nats.Header{}
	for k, v := range msg.Headers() {
		h[k] = v
	}
	var seq uint64
	if md, err := msg.Metadata(); err == nil {
		seq = md.Sequence.Stream
	}
	why := "unknown"
	if reason != nil {
		why = reason.Error()
	}
	h.Set(HeaderDLQReason, why)
	h.Set(HeaderDLQAttempts, strconv.Itoa(m.Attempt))
	h.Set(HeaderDLQSubject, msg.Subject())
	h.Set(HeaderDLQStream, strconv.FormatUint(seq, 10))
	h.Set(HeaderDLQAt, time.Now().UTC().Format(time.RFC3339))
	h.Del(nats.MsgIdHdr)
	return SendToDeadLetters(ctx, q.js, msg, DLQStream, DLQSubjects+strings.TrimPrefix(msg.Subject(), EventSubjects), "dlq", h)
}

// decodeMessage reads the routing out of the subject and headers, and the message's stream
// sequence out of its metadata.
func decodeMessage(msg jetstream.Msg) (m Message, seq uint64, err error) {
	m = Message{Subject: msg.Subject(), Body: msg.Data()}
	if h := msg.Headers(); h != nil {
		m.Event = h.Get(HeaderEvent)
		m.DeliveryID = h.Get(HeaderDelivery)
	}
	if md, err := msg.Metadata(); err == nil {
		m.Attempt, m.Stored, seq = int(md.NumDelivered), md.Timestamp, md.Sequence.Stream
	}
	if m.Body, err = decodeBody(m.Body, msg.Headers().Get(HeaderEncoding)); err != nil {
		return m, seq, err
	}
	return m, seq, parseSubject(&m)
}

func parseSubject(m *Message) error {
	rest, ok := strings.CutPrefix(m.Subject, EventSubjects+".")
	tok := strings.Split(rest, ".")
	if !ok || len(tok) != 5 {
		return fmt.Errorf("subject %q is not %s.<partition>.<installation>.<repository>.<issue>.<event>", m.Subject, EventSubjects)
	}
	var err error
	var n [4]int64
	for i := range 4 {
		if n[i], err = strconv.ParseInt(tok[i], 10, 64); err != nil {
			return fmt.Errorf("subject %q: %w", m.Subject, err)
		}
	}
	m.Partition, m.InstallationID, m.RepoID, m.Number = int(n[0]), n[1], n[2], int(n[3])
	if m.Event == "" {
		m.Event = tok[4]
	}
	return nil
}
