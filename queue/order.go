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
	// renewed is when JetStream last heard of this delivery: delivered, or told it is in
	// progress (keepAlive).
	renewed time.Time
	// running: being handled. msg and m are then the handler's, and a second delivery of the
	// event does not replace them: it waits in again until this one is released.
	running bool
	again   *held
	// reported is when this process last said the event was slow (ordering.due).
	reported time.Time
}

// line is the events of one issue this process holds, lowest sequence first; a runner
// goroutine works through it while it is not empty.
type line struct {
	subjects string // the issue's subjects, in any partition
	events   []*held
	// done is the stream sequence of the line's event this process handled last: every
	// earlier event of the issue has left the stream (it was handled only as the first), so
	// the issue's first is looked up after it, whether or not its ack has reached JetStream.
	done uint64
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
	// exclusive: this process is the store's only consumer and every issue is in one
	// partition, so a line's events arrive in stream order, except those this process gave
	// back (out, per line). A line with none out needs no look-up of its first event.
	exclusive bool
	out       map[string]map[uint64]bool

	streamMu sync.Mutex
	stream   jetstream.Stream
}

func newOrdering(c *Consumer) *ordering {
	return &ordering{c: c, lines: map[string]*line{}, held: map[uint64]*held{}, deferred: map[uint64]int{}, limited: map[int64]time.Time{}, out: map[string]map[uint64]bool{}}
}

// IssueSubjects are the subjects of every event of m's issue, in any partition (changing the
// partition count does not change an issue's order) and from any installation (a repository
// moves between installations when it is transferred). Events of no issue are lined up per
// repository, and events of no repository per installation.
func (m Message) IssueSubjects() string {
	if m.RepoID == 0 {
		return fmt.Sprintf("%s.*.%d.0.%d.*", EventSubjects, m.InstallationID, m.Number)
	}
	return fmt.Sprintf("%s.*.*.%d.%d.*", EventSubjects, m.RepoID, m.Number)
}

// add lines up an event this process now holds (it holds one of the consumer's slots).
func (o *ordering) add(h *held) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if prev, ok := o.held[h.seq]; ok {
		if prev.running {
			// Given back by its handler (a retry delivered at once) before it was released, or
			// delivered again while handled: lined up again once released (keeping its slot).
			prev.again = h
			return
		}
		// Delivered again while waiting (its AckWait ran out): keep one copy, settled through
		// the newest delivery.
		prev.msg, prev.m.Attempt, prev.renewed = h.msg, h.m.Attempt, h.renewed
		<-o.c.slots
		return
	}
	o.held[h.seq] = h
	key := h.m.IssueSubjects()
	o.back(key, h.seq)
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
		isFirst := o.inOrder(l.subjects)
		if !isFirst && l.done != 0 && h.seq == l.done+1 {
			// Right after the event this process handled last: nothing can be between them.
			isFirst = true
			o.gone(l.subjects, h.seq)
		}
		if !isFirst {
			first, err := o.first(l.subjects, l.done+1)
			if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				o.c.log.Warn("look up the first event of an issue", zap.String("subjects", l.subjects), zap.Error(err))
			}
			if isFirst = err == nil && first == h.seq; isFirst {
				o.gone(l.subjects, first)
			}
		}
		if isFirst {
			o.mu.Lock()
			l.events = l.events[1:]
			h.running = true
			msg, m := h.msg, h.m
			m.Attempt -= o.deferred[h.seq]
			o.mu.Unlock()
			if o.c.handle(msg, m) {
				o.gaveBack(l.subjects, h.seq)
			} else {
				l.done = h.seq
			}
			o.release(h)
			waitingSince, pause = time.Time{}, 5*time.Millisecond
			continue
		}
		// An earlier event of the issue is held elsewhere (or h is no longer in the stream).
		if waitingSince.IsZero() {
			waitingSince = time.Now()
		}
		if time.Since(waitingSince) > headWait {
			o.c.log.Debug("an earlier event of the issue is held elsewhere: handed back", zap.String("subjects", l.subjects), zap.Uint64("seq", h.seq))
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

// first is the stream sequence of the first event still stored with one of subjects, from
// sequence from on.
func (o *ordering) first(subjects string, from uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(o.c.hardCtx, 5*time.Second)
	defer cancel()
	o.streamMu.Lock()
	if o.stream == nil {
		// Found once (a failure is tried again): it says whether direct gets are allowed.
		stream, err := o.c.q.js.Stream(ctx, EventStream)
		if err != nil {
			o.streamMu.Unlock()
			return 0, err
		}
		o.stream = stream
	}
	stream := o.stream
	o.streamMu.Unlock()
	msg, err := stream.GetMsg(ctx, from, jetstream.WithGetMsgSubject(subjects))
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
		o.markOut(l.subjects, h.seq)
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

// inOrder reports whether the line's first held event is known to be its issue's first in the
// stream without looking it up.
func (o *ordering) inOrder(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.exclusive && len(o.out[key]) == 0
}

// gaveBack notes that an event of the line went back to the stream.
func (o *ordering) gaveBack(key string, seq uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.markOut(key, seq)
}

func (o *ordering) markOut(key string, seq uint64) {
	if o.out[key] == nil {
		o.out[key] = map[uint64]bool{}
	}
	o.out[key][seq] = true
}

// back notes that an event given back is held again.
func (o *ordering) back(key string, seq uint64) {
	if out := o.out[key]; out != nil {
		delete(out, seq)
		if len(out) == 0 {
			delete(o.out, key)
		}
	}
}

// gone notes that first is the line's first event in the stream: those given back before it
// have left the stream (dead-lettered, or handled by another copy).
func (o *ordering) gone(key string, first uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for seq := range o.out[key] {
		if seq < first {
			o.back(key, seq)
		}
	}
}

// release forgets a settled event and frees its slot.
func (o *ordering) release(h *held) {
	o.mu.Lock()
	delete(o.held, h.seq)
	again := h.again
	if again == nil {
		delete(o.deferred, h.seq)
	}
	o.mu.Unlock()
	<-o.c.slots
	if again != nil {
		o.add(again)
	}
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

// due are the deliveries of the events held now that JetStream last heard of before
// before; they count as renewed at now. slow are copies of the events held for at least
// slowAfter, once per slowAfter each: what they were when last seen, and whether being
// handled. One pass under the lock for both, each keepAlive tick.
func (o *ordering) due(before, now time.Time, slowAfter time.Duration) (msgs []jetstream.Msg, slow []held) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, h := range o.held {
		if h.renewed.Before(before) {
			msgs = append(msgs, h.msg)
			h.renewed = now
		}
		if now.Sub(h.since) >= slowAfter && now.Sub(h.reported) >= slowAfter {
			h.reported = now
			slow = append(slow, held{m: h.m, since: h.since, running: h.running})
		}
	}
	return msgs, slow
}
