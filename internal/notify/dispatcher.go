package notify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/queue"
)

// Log field names.
const (
	logKeyChannel      = "channel"
	logKeyType         = "channel_type"
	logKeyNotification = "notification_id"
	logKeyItems        = "items"
	logKeyRetryIn      = "retry_in"
	logKeyAttempts     = "attempts"
)

// Clock is the time the dispatcher reads; tests replace it to close digest windows at will.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// The results an Outcome reports.
const (
	ResultSent         = "sent"          // the channel took the digest; the IDs are recorded and acknowledged
	ResultDuplicate    = "duplicate"     // the ID was sent before: acknowledged, not sent
	ResultRetry        = "retry"         // the channel failed; retried after Delay
	ResultRateLimited  = "rate_limited"  // the channel asked to wait Delay
	ResultDeadLettered = "dead_lettered" // given up: copied to TRIAGEBOT_NOTIFY_DLQ with the reason
	ResultInterrupted  = "interrupted"   // the dispatcher stopped; retried at once elsewhere or later
)

// Outcome is what became of some notifications of one channel, for metrics and tests.
type Outcome struct {
	Channel string
	IDs     []string
	Result  string
	Delay   time.Duration  // retry, rate_limited: how long until the next attempt
	Err     error          // never contains a webhook URL
	Sent    []Notification // sent: what the channel took (for the audit trail)
}

// Option configures a Dispatcher.
type Option func(*Dispatcher) error

// WithLogger sets the logger (default: none).
func WithLogger(l *zap.Logger) Option {
	return func(d *Dispatcher) error {
		if l == nil {
			return errors.New("nil logger")
		}
		d.log = l
		return nil
	}
}

// WithCommenter sets what posts github channels' comments; required when one is configured.
func WithCommenter(c Commenter) Option {
	return func(d *Dispatcher) error {
		if c == nil {
			return errors.New("nil commenter")
		}
		d.commenter = c
		return nil
	}
}

// WithHTTPClient sets the webhook client (default: 30s timeout, no redirects: a redirect would
// carry the secret URL's request elsewhere).
func WithHTTPClient(c *http.Client) Option {
	return func(d *Dispatcher) error {
		if c == nil {
			return errors.New("nil HTTP client")
		}
		d.http = c
		return nil
	}
}

// WithSMTPTLSConfig sets the TLS configuration of email channels (default: system roots).
func WithSMTPTLSConfig(c *tls.Config) Option {
	return func(d *Dispatcher) error { d.smtpTLS = c; return nil }
}

// WithClock sets the clock (default: the real one).
func WithClock(c Clock) Option {
	return func(d *Dispatcher) error {
		if c == nil {
			return errors.New("nil clock")
		}
		d.clock = c
		return nil
	}
}

// WithBackoff sets the delay before retrying a failed send (default queue.Backoff).
func WithBackoff(f func(attempt int) time.Duration) Option {
	return func(d *Dispatcher) error {
		if f == nil {
			return errors.New("nil backoff")
		}
		d.backoff = f
		return nil
	}
}

// WithObserver is called after each outcome, from the channel's goroutine.
func WithObserver(f func(Outcome)) Option {
	return func(d *Dispatcher) error { d.observe = f; return nil }
}

// WithAttempts sets how many deliveries a notification gets before it is dead-lettered: after
// transient failures (default 15, about an hour with the default backoff) and after permanent
// ones such as HTTP 404 (default 3).
func WithAttempts(transient, permanent int) Option {
	return func(d *Dispatcher) error {
		if transient < 1 || permanent < 1 {
			return fmt.Errorf("attempts must be at least 1, got %d and %d", transient, permanent)
		}
		d.maxAttempts, d.permanentAttempts = transient, permanent
		return nil
	}
}

// WithMaxBatch caps a digest; a fuller window is sent at once (default 100).
func WithMaxBatch(n int) Option {
	return func(d *Dispatcher) error {
		if n < 1 {
			return fmt.Errorf("max batch must be at least 1, got %d", n)
		}
		d.maxBatch = n
		return nil
	}
}

// sender delivers one digest to a channel.
type sender interface {
	send(ctx context.Context, ch ChannelConfig, items []Notification) error
}

// Dispatcher sends the enqueued notifications, one goroutine per channel, apart from the event
// workers: a slow or failing channel delays only its own notifications.
//
// Each channel collects what arrives within its digest window (counted from the first
// notification held) and sends it as one message: one webhook POST, one email, one comment per
// issue. Before sending, IDs already in the sent bucket are acknowledged and dropped. After
// the channel accepts, the IDs are written to the bucket, then acknowledged.
//
// Delivery is at least once, with one window: if the process dies (or JetStream becomes
// unreachable) after the channel accepted a digest and before the bucket write completed, that
// digest is sent again on redelivery. The window is a single KV write per item, milliseconds,
// and covers only the in-flight digest. A failed acknowledgement after the bucket write does
// not repeat the send. An ID enqueued again within the stream's dedup window is never stored;
// after it (up to the bucket's TTL) it is stored but not sent.
//
// Several processes may run a Dispatcher on the same queue; each notification goes to one of
// them, so a burst split between processes may come out as one digest from each.
type Dispatcher struct {
	q                 *Queue
	log               *zap.Logger
	commenter         Commenter
	http              *http.Client
	smtpTLS           *tls.Config
	clock             Clock
	backoff           func(int) time.Duration
	observe           func(Outcome)
	maxAttempts       int
	permanentAttempts int
	maxBatch          int

	loops      []*channelLoop
	hardCtx    context.Context // cancelled when Stop's grace runs out: interrupts sends
	hardCancel context.CancelFunc
	wg         sync.WaitGroup
	startOnce  sync.Once
	stopOnce   sync.Once
	started    bool
}

type channelLoop struct {
	cfg     ChannelConfig
	send    sender
	it      jetstream.MessagesContext
	in      chan jetstream.Msg
	flush   chan chan struct{}
	exited  chan struct{}
	pending atomic.Int64
}

// NewDispatcher builds a dispatcher for every channel of q.
func NewDispatcher(q *Queue, opts ...Option) (*Dispatcher, error) {
	d := &Dispatcher{
		q:                 q,
		log:               zap.NewNop(),
		clock:             realClock{},
		backoff:           queue.Backoff,
		maxAttempts:       15,
		permanentAttempts: 3,
		maxBatch:          100,
		http: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	for _, o := range opts {
		if err := o(d); err != nil {
			return nil, fmt.Errorf("notify dispatcher: %w", err)
		}
	}
	for _, name := range sortedNames(q.cfg.Channels) {
		ch := q.cfg.Channels[name]
		l := &channelLoop{cfg: ch, in: make(chan jetstream.Msg), flush: make(chan chan struct{}), exited: make(chan struct{})}
		switch ch.Type {
		case TypeWebhook:
			l.send = webhookSender{client: d.http, now: d.clock.Now}
		case TypeEmail:
			l.send = emailSender{now: d.clock.Now, tlsConfig: d.smtpTLS}
		case TypeGitHub:
			if d.commenter == nil {
				return nil, fmt.Errorf("notify dispatcher: channel %s is a github channel but no Commenter was given", name)
			}
			l.send = githubSender{c: d.commenter}
		default:
			return nil, fmt.Errorf("notify dispatcher: channel %s has unknown type %q", name, ch.Type)
		}
		d.loops = append(d.loops, l)
	}
	return d, nil
}

// Start takes notifications from every channel's consumer until Stop.
func (d *Dispatcher) Start(ctx context.Context) error {
	err := errors.New("notify dispatcher: already started")
	d.startOnce.Do(func() { err = d.start(ctx) })
	return err
}

func (d *Dispatcher) start(ctx context.Context) error {
	d.hardCtx, d.hardCancel = context.WithCancel(context.WithoutCancel(ctx))
	for i, l := range d.loops {
		var err error
		if l.it, err = queue.Pull(ctx, d.q.js, Stream, ConsumerName(l.cfg.Name), d.maxBatch); err != nil {
			for _, prev := range d.loops[:i] {
				prev.it.Stop()
			}
			d.wg.Wait()
			d.hardCancel()
			return fmt.Errorf("notify consumer %s: %w", ConsumerName(l.cfg.Name), err)
		}
		d.wg.Add(2)
		go d.read(l)
		go d.run(l)
	}
	d.started = true
	return nil
}

// Stop takes no new notifications, gives the ones held back to the queue (to be sent by
// another process or after a restart), lets a send in progress finish until ctx is done (then
// interrupts it), and waits.
func (d *Dispatcher) Stop(ctx context.Context) error {
	if !d.started {
		return nil
	}
	d.stopOnce.Do(func() {
		for _, l := range d.loops {
			l.it.Drain()
		}
	})
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		d.hardCancel()
		return nil
	case <-ctx.Done():
		d.hardCancel()
		<-done
		return fmt.Errorf("stop notify dispatcher: %w", ctx.Err())
	}
}

// FlushNow sends every channel's held notifications now, without waiting for the digest
// windows, and returns when they were handled.
func (d *Dispatcher) FlushNow() {
	if !d.started {
		return
	}
	for _, l := range d.loops {
		done := make(chan struct{})
		select {
		case l.flush <- done:
			<-done
		case <-l.exited:
		}
	}
}

// Pending is how many notifications a channel holds for its next digest.
func (d *Dispatcher) Pending(channel string) int {
	for _, l := range d.loops {
		if l.cfg.Name == channel {
			return int(l.pending.Load())
		}
	}
	return 0
}

func (d *Dispatcher) read(l *channelLoop) {
	defer d.wg.Done()
	defer close(l.in)
	for {
		msg, ok := queue.Next(l.it, d.log, ConsumerName(l.cfg.Name))
		if !ok {
			return
		}
		l.in <- msg
	}
}

func (d *Dispatcher) run(l *channelLoop) {
	defer d.wg.Done()
	defer close(l.exited)
	var batch []jetstream.Msg
	var window <-chan time.Time
	flush := func() {
		if len(batch) > 0 {
			d.flush(l, batch)
		}
		batch, window = nil, nil
		l.pending.Store(0)
	}
	for {
		select {
		case msg, ok := <-l.in:
			if !ok {
				// Stopping: what is held goes back to the queue at once.
				for _, m := range batch {
					_ = m.Nak()
				}
				l.pending.Store(0)
				return
			}
			batch = append(batch, msg)
			l.pending.Store(int64(len(batch)))
			switch {
			case l.cfg.Digest == 0 || len(batch) >= d.maxBatch:
				flush()
			case window == nil:
				window = d.clock.After(l.cfg.Digest)
			}
		case <-window:
			flush()
		case done := <-l.flush:
			flush()
			close(done)
		}
	}
}

// held is one notification of a digest with its message.
type held struct {
	msg     jetstream.Msg
	n       Notification
	attempt int
}

func (d *Dispatcher) flush(l *channelLoop, batch []jetstream.Msg) {
	ctx := d.hardCtx
	defer queue.KeepAlive(sendGrace/3, func() []jetstream.Msg { return batch })()
	log := d.log.With(zap.String(logKeyChannel, l.cfg.Name), zap.String(logKeyType, l.cfg.Type))
	var items []held
	seen := map[string]bool{}
	for _, m := range batch {
		h := held{msg: m, attempt: 1}
		if md, err := m.Metadata(); err == nil {
			h.attempt = int(md.NumDelivered)
		}
		if err := json.Unmarshal(m.Data(), &h.n); err != nil {
			d.deadLetter(l, log, h, fmt.Errorf("undecodable notification: %w", err))
			continue
		}
		if err := h.n.validate(); err != nil {
			d.deadLetter(l, log, h, err)
			continue
		}
		if seen[h.n.ID] {
			d.ackDuplicate(l, h)
			continue
		}
		seen[h.n.ID] = true
		sent, err := d.q.wasSent(ctx, h.n.ID)
		if err != nil {
			// Without the record a send might repeat one: wait for the bucket instead.
			log.Warn("read sent notifications", zap.Error(err))
			d.retry(l, log, []held{h}, err)
			continue
		}
		if sent {
			d.ackDuplicate(l, h)
			continue
		}
		items = append(items, h)
	}
	for _, g := range d.groups(l.cfg, items) {
		ns := make([]Notification, len(g))
		for i, h := range g {
			ns[i] = h.n
		}
		err := l.send.send(ctx, l.cfg, ns)
		if err == nil {
			d.settleSent(l, log, g)
			continue
		}
		d.retry(l, log, g, err)
	}
}

// groups splits a digest into messages: one comment per issue on github, else one message.
func (d *Dispatcher) groups(ch ChannelConfig, items []held) [][]held {
	if len(items) == 0 {
		return nil
	}
	if ch.Type != TypeGitHub {
		return [][]held{items}
	}
	var order []string
	by := map[string][]held{}
	for _, h := range items {
		k := issueKey(h.n)
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], h)
	}
	out := make([][]held, len(order))
	for i, k := range order {
		out[i] = by[k]
	}
	return out
}

func (d *Dispatcher) settleSent(l *channelLoop, log *zap.Logger, g []held) {
	// Record first, acknowledge second: a lost ack then costs a redelivery, not a second send.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.hardCtx), 10*time.Second)
	defer cancel()
	for _, h := range g {
		if err := d.q.markSent(ctx, h.n.ID, d.clock.Now()); err != nil {
			// Acknowledging anyway: the stream will not redeliver, and a re-enqueue of this ID
			// within the dedup window is dropped; only a later one could repeat it.
			log.Warn("record sent notification", zap.String(logKeyNotification, h.n.ID), zap.Error(err))
		}
	}
	for _, h := range g {
		if err := h.msg.DoubleAck(ctx); err != nil {
			log.Warn("ack notification: it is recorded as sent and will be skipped",
				zap.String(logKeyNotification, h.n.ID), zap.Error(err))
		}
	}
	log.Info("notification sent", zap.Int(logKeyItems, len(g)))
	sent := make([]Notification, len(g))
	for i, h := range g {
		sent[i] = h.n
	}
	d.done(Outcome{Channel: l.cfg.Name, IDs: ids(g), Result: ResultSent, Sent: sent})
}

func (d *Dispatcher) ackDuplicate(l *channelLoop, h held) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.hardCtx), 5*time.Second)
	defer cancel()
	_ = h.msg.DoubleAck(ctx)
	d.done(Outcome{Channel: l.cfg.Name, IDs: []string{h.n.ID}, Result: ResultDuplicate})
}

// retry decides, per notification, between another attempt and the dead letters.
func (d *Dispatcher) retry(l *channelLoop, log *zap.Logger, g []held, err error) {
	if d.hardCtx.Err() != nil {
		for _, h := range g {
			_ = h.msg.Nak()
		}
		d.done(Outcome{Channel: l.cfg.Name, IDs: ids(g), Result: ResultInterrupted, Err: err})
		return
	}
	if wait, ok := queue.RetryAfter(err); ok && wait > 0 {
		// The channel decides how long; a rate limit does not make a notification hopeless.
		for _, h := range g {
			_ = h.msg.NakWithDelay(wait)
		}
		log.Warn("notification rate limited", zap.Int(logKeyItems, len(g)), zap.Duration(logKeyRetryIn, wait), zap.Error(err))
		d.done(Outcome{Channel: l.cfg.Name, IDs: ids(g), Result: ResultRateLimited, Delay: wait, Err: err})
		return
	}
	limit := d.maxAttempts
	if queue.IsPermanent(err) {
		limit = d.permanentAttempts
	}
	var again, gone []held
	var delay time.Duration
	for _, h := range g {
		if h.attempt >= limit {
			gone = append(gone, h)
			continue
		}
		again = append(again, h)
		wait := d.backoff(h.attempt)
		delay = max(delay, wait)
		_ = h.msg.NakWithDelay(wait)
	}
	if len(again) > 0 {
		log.Warn("send notification: will retry", zap.Int(logKeyItems, len(again)), zap.Duration(logKeyRetryIn, delay), zap.Error(err))
		d.done(Outcome{Channel: l.cfg.Name, IDs: ids(again), Result: ResultRetry, Delay: delay, Err: err})
	}
	for _, h := range gone {
		d.deadLetter(l, log, h, err)
	}
}

// deadLetter copies the notification and the reason to the dead-letter stream, then
// terminates it. If the copy fails it is retried instead: nothing is dropped silently.
func (d *Dispatcher) deadLetter(l *channelLoop, log *zap.Logger, h held, reason error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.hardCtx), 5*time.Second)
	defer cancel()
	header := nats.Header{
		HeaderDLQReason:   []string{reason.Error()},
		HeaderDLQAttempts: []string{strconv.Itoa(h.attempt)},
		HeaderDLQChannel:  []string{l.cfg.Name},
		HeaderDLQAt:       []string{d.clock.Now().UTC().Format(time.RFC3339)},
	}
	log = log.With(zap.String(logKeyNotification, h.n.ID), zap.Int(logKeyAttempts, h.attempt))
	if err := queue.SendToDeadLetters(ctx, d.q.js, h.msg, DLQStream, DLQSubjects+"."+token(l.cfg.Name), "notify-dlq", header); err != nil {
		log.Error("dead-letter notification: will retry it", zap.Error(err))
		_ = h.msg.NakWithDelay(d.backoff(h.attempt))
		return
	}
	log.Error("notification dead-lettered", zap.NamedError("reason", reason))
	d.done(Outcome{Channel: l.cfg.Name, IDs: []string{h.n.ID}, Result: ResultDeadLettered, Err: reason})
}

func (d *Dispatcher) done(o Outcome) {
	if d.observe != nil {
		d.observe(o)
	}
}

func ids(g []held) []string {
	out := make([]string, len(g))
	for i, h := range g {
		out[i] = h.n.ID
	}
	return out
}

// wasSent reports whether id is recorded as sent.
func (q *Queue) wasSent(ctx context.Context, id string) (bool, error) {
	_, err := q.sent.Get(ctx, sentKey(id))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	default:
		return false, err
	}
}

func (q *Queue) markSent(ctx context.Context, id string, at time.Time) error {
	_, err := q.sent.Put(ctx, sentKey(id), []byte(at.UTC().Format(time.RFC3339Nano)))
	return err
}
