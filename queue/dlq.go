package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeadLetter is one event the workers gave up on.
type DeadLetter struct {
	Seq        uint64 // its sequence in the dead-letter stream: what retry and drop take
	Subject    string // the original subject
	Event      string
	DeliveryID string
	Reason     string
	Attempts   int
	At         time.Time
	Body       []byte
	Header     nats.Header
}

// DeadLetters lists the dead letters, oldest first, at most limit (0: all).
func (q *Queue) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	s, err := q.js.Stream(ctx, DLQStream)
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream info: %w", err)
	}
	var out []DeadLetter
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		if limit > 0 && len(out) >= limit {
			break
		}
		raw, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read dead letter %d: %w", seq, err)
		}
		out = append(out, toDeadLetter(raw))
	}
	return out, nil
}

func toDeadLetter(raw *jetstream.RawStreamMsg) DeadLetter {
	d := DeadLetter{Seq: raw.Sequence, Body: raw.Data, Header: raw.Header}
	if raw.Header != nil {
		if body, err := decodeBody(raw.Data, raw.Header.Get(HeaderEncoding)); err == nil {
			d.Body = body // else shown as stored
		}
		d.Subject = raw.Header.Get(HeaderDLQSubject)
		d.Event = raw.Header.Get(HeaderEvent)
		d.DeliveryID = raw.Header.Get(HeaderDelivery)
		d.Reason = raw.Header.Get(HeaderDLQReason)
		d.Attempts, _ = strconv.Atoi(raw.Header.Get(HeaderDLQAttempts))
		d.At, _ = time.Parse(time.RFC3339, raw.Header.Get(HeaderDLQAt))
	}
	return d
}

// RetryDeadLetter puts a dead letter back on its original subject and removes it from the
// dead-letter stream.
func (q *Queue) RetryDeadLetter(ctx context.Context, seq uint64) error {
	s, err := q.js.Stream(ctx, DLQStream)
	if err != nil {
		return fmt.Errorf("dead-letter stream: %w", err)
	}
	raw, err := s.GetMsg(ctx, seq)
	if err != nil {
		return fmt.Errorf("dead letter %d: %w", seq, err)
	}
	d := toDeadLetter(raw)
	if !strings.HasPrefix(d.Subject, EventSubjects+".") {
		return fmt.Errorf("dead letter %d has no original subject", seq)
	}
	h := nats.Header{}
	for _, k := range []string{HeaderEvent, HeaderDelivery, HeaderReceived, HeaderEncoding} {
		if v := raw.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	msg := &nats.Msg{Subject: d.Subject, Data: raw.Data, Header: h}
	// A new message id: the delivery id is still inside the dedup window and would be dropped.
	id := fmt.Sprintf("%s-retry-%d", d.DeliveryID, seq)
	if _, err := q.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id), jetstream.WithExpectStream(EventStream)); err != nil {
		return fmt.Errorf("requeue dead letter %d: %w", seq, err)
	}
	return q.DropDeadLetter(ctx, seq)
}

// DropDeadLetter deletes a dead letter.
func (q *Queue) DropDeadLetter(ctx context.Context, seq uint64) error {
	s, err := q.js.Stream(ctx, DLQStream)
	if err != nil {
		return fmt.Errorf("dead-letter stream: %w", err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("drop dead letter %d: %w", seq, err)
	}
	return nil
}
