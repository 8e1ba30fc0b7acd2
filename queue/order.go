package queue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Per-issue order with many events in flight.
//
// A partition's consumer delivers many events at once, to any process. Each process lines up
// the events it holds per issue and handles an issue's events one at a time, lowest stream
// sequence first. That alone would not keep order across processes (two processes may each
// hold an event of the same issue) nor across retries (an event waiting out its backoff is
// back in the stream, behind its successors). So an event is handled only when it is the
// first of its issue still in the stream: the event stream is a work queue, an event leaves
// it when it is acknowledged or dead-lettered, and so the first event of an issue in the
// stream is the one to handle next. An event whose predecessor is held elsewhere (another
// process, a retry waiting out its delay, a killed process's event waiting out AckWait)
// waits for it a little, then is handed back (its whole line) to come again later.

const (
	// headWait is how long an event waits for its issue's earlier event held elsewhere before
	// it and the rest of its line are handed back.
	headWait = 2 * time.Second
	// deferDelay is when a handed-back event is delivered again.
	deferDelay = 250 * time.Millisecond
	// maxDeferrals bounds the memory of handed-back events (see ordering.deferred).
	maxDeferrals = 100_000
)

// held is an event this process holds: waiting in its issue's line or being handled.
type held struct {
	msg   jetstream.Msg
	m     Message
	seq   uint64 // stream sequence
	since time.Time
	// running: being handled. msg and m are then the handler's, and a second delivery of the
	// event does not replace them.
	running bool
}

// line is the events of one issue this process holds, lowest sequence first; a runner
// goroutine works through it while it is not empty.
type line struct {
	subjects string // the issue's subjects, in any partition
	events   []*held
}

type ordering struct {
	c *Consumer

	mu    sync.Mutex
	lines map[string]*line
	held  map[uint64]*held
	// deferred counts the times this process handed an event back: those redeliveries are
	// not attempts, and are taken off the attempt count.
	deferred map[uint64]int
	// limited holds an installation's events until GitHub's rate limit lets it write again.
	limited map[int64]time.Time

	streamOnce sync.Once
	stream     jetstream.Stream
	streamErr  error
}

func newOrdering(c *Consumer) *ordering {
	return &ordering{c: c, lines: map[string]*line{}, held: map[uint64]*held{}, deferred: map[uint64]int{}, limited: map[int64]time.Time{}}
}

// IssueSubjects are the subjects of every event of m's issue, in any partition: changing the
// partition count does not change an issue's order. Events of no issue are lined up per
// repository, and events of no repository per installation.
func (m Message) IssueSubjects() string {
	return fmt.Sprintf("%s.*.%d.%d.%d.*", EventSubjects, m.InstallationID, m.RepoID, m.Number)
}

// add lines up an event this process now holds (it holds one of the consumer's slots).
func (o *ordering) add(h *held) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if prev, ok := o.held[h.seq]; ok {
		// Delivered again while held (its AckWait ran out): keep one copy, settled through the
		// newest delivery unless it is being handled already.
		if !prev.running {
			prev.msg, prev.m.Attempt = h.msg, h.m.Attempt
		}
		<-o.c.slots
		return
	}
	o.held[h.seq] = h
	key := h.m.IssueSubjects()
	l, running := o.lines[key]
	if !running {
		l = &line{subjects: key}
		o.lines[key] = l
	}
	i, _ := slices.BinarySearchFunc(l.events, h.seq, func(e *held, seq uint64) int { return cmpSeq(e.seq, seq) })
	l.events = slices.Insert(l.events, i, h)
	if !running {
		o.c.wg.Add(1)
		go o.run(l)
	}
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// run works through an issue's line until it is empty.
func (o *ordering) run(l *line) {
	defer o.c.wg.Done()
	var waitingSince time.Time
	pause := 5 * time.Millisecond
	for {
		o.mu.Lock()
		if len(l.events) == 0 {
			delete(o.lines, l.subjects)
			o.mu.Unlock()
			return
		}
		h := l.events[0]
		until := o.limited[h.m.InstallationID]
		o.mu.Unlock()

		if o.c.stopping() {
			o.handBack(l, 0)
			return
		}
		if wait := time.Until(until); wait > 0 {
			// The installation is waiting out a rate limit: its events wait in the stream, not
			// here, so that other installations' events get this process's room.
			o.handBack(l, wait)
			return
		}
		first, err := o.first(l.subjects)
		if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			o.c.log.Warn("look up the first event of an issue", zap.String("subjects", l.subjects), zap.Error(err))
		}
		if err == nil && first == h.seq {
			o.mu.Lock()
			l.events = l.events[1:]
			h.running = true
			msg, m := h.msg, h.m
			m.Attempt -= o.deferred[h.seq]
			o.mu.Unlock()
			o.c.handle(msg, m)
			o.release(h)
			waitingSince, pause = time.Time{}, 5*time.Millisecond
			continue
		}
		// An earlier event of the issue is held elsewhere (or h is no longer in the stream).
		if waitingSince.IsZero() {
			waitingSince = time.Now()
		}
		if time.Since(waitingSince) > headWait {
			o.handBack(l, deferDelay)
			return
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-o.c.stopped:
			t.Stop()
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// first is the stream sequence of the first event still stored with one of subjects.
func (o *ordering) first(subjects string) (uint64, error) {
	o.streamOnce.Do(func() {
		ctx, cancel := context.WithTimeout(o.c.hardCtx, 10*time.Second)
		defer cancel()
		o.stream, o.streamErr = o.c.q.js.Stream(ctx, EventStream)
	})
	if o.streamErr != nil {
		return 0, o.streamErr
	}
	ctx, cancel := context.WithTimeout(o.c.hardCtx, 5*time.Second)
	defer cancel()
	msg, err := o.stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subjects))
	if err != nil {
		return 0, err
	}
	return msg.Sequence, nil
}

// handBack gives every event of l back to JetStream, to be delivered again after delay (at
// once when 0), and frees their slots.
func (o *ordering) handBack(l *line, delay time.Duration) {
	o.mu.Lock()
	events := l.events
	l.events = nil
	delete(o.lines, l.subjects)
	if len(o.deferred) > maxDeferrals {
		clear(o.deferred)
	}
	for _, h := range events {
		delete(o.held, h.seq)
		if delay > 0 {
			o.deferred[h.seq]++
		}
	}
	o.mu.Unlock()
	for _, h := range events {
		if delay > 0 {
			_ = h.msg.NakWithDelay(delay)
		} else {
			_ = h.msg.Nak()
		}
		<-o.c.slots
	}
}

// release forgets a settled event and frees its slot.
func (o *ordering) release(h *held) {
	o.mu.Lock()
	delete(o.held, h.seq)
	delete(o.deferred, h.seq)
	o.mu.Unlock()
	<-o.c.slots
}

// limit holds the installation's events for wait.
func (o *ordering) limit(installationID int64, wait time.Duration) {
	until := time.Now().Add(wait)
	o.mu.Lock()
	defer o.mu.Unlock()
	if until.After(o.limited[installationID]) {
		o.limited[installationID] = until
	}
	for id, t := range o.limited {
		if time.Now().After(t) {
			delete(o.limited, id)
		}
	}
}

// heldMsgs are the deliveries of every event held now.
func (o *ordering) heldMsgs() []jetstream.Msg {
	o.mu.Lock()
	defer o.mu.Unlock()
	msgs := make([]jetstream.Msg, 0, len(o.held))
	for _, h := range o.held {
		msgs = append(msgs, h.msg)
	}
	return msgs
}

func streamSeq(msg jetstream.Msg) uint64 {
	if md, err := msg.Metadata(); err == nil {
		return md.Sequence.Stream
	}
	return 0
}
