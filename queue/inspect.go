package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// AuditScan chooses the audit records ScanAudit reads: those stored since Since, or (Since
// zero) the Last newest (0: all).
type AuditScan struct {
	Since time.Time
	Last  uint64
}

// AuditEntry is one stored audit record.
type AuditEntry struct {
	Seq    uint64
	Stored time.Time
	Data   []byte // the record, as JSON
}

// ScanAudit reads audit records oldest first, as far as the newest one stored when it starts,
// and calls f with each; it stops early when f returns false. It is the one reader of the whole
// trail (the status page, `triagebot audit`); AuditTrail reads one issue's.
func (q *Queue) ScanAudit(ctx context.Context, scan AuditScan, f func(AuditEntry) bool) error {
	s, err := q.js.Stream(ctx, AuditStream)
	if err != nil {
		return fmt.Errorf("audit stream: %w", err)
	}
	st := s.CachedInfo().State
	if st.Msgs == 0 {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{}
	switch {
	case !scan.Since.IsZero():
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &scan.Since
	case scan.Last > 0 && scan.Last < st.LastSeq-st.FirstSeq+1:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, st.LastSeq-scan.Last+1
	}
	cons, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("read audit trail: %w", err)
	}
	for {
		batch, err := cons.FetchNoWait(512)
		if err != nil {
			return fmt.Errorf("read audit trail: %w", err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				return fmt.Errorf("read audit trail: %w", err)
			}
			if !f(AuditEntry{Seq: md.Sequence.Stream, Stored: md.Timestamp, Data: msg.Data()}) || md.Sequence.Stream >= st.LastSeq {
				return nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return fmt.Errorf("read audit trail: %w", err)
		}
		if n == 0 {
			return nil // nothing since Since
		}
	}
}

// LatestDeadLetters is the number of dead letters and the newest of them (at most n, newest
// first), read from the end of the stream without reading the rest.
func (q *Queue) LatestDeadLetters(ctx context.Context, n int) (uint64, []DeadLetter, error) {
	s, err := q.js.Stream(ctx, DLQStream)
	if err != nil {
		return 0, nil, fmt.Errorf("dead-letter stream: %w", err)
	}
	st := s.CachedInfo().State
	var out []DeadLetter
	for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0 && len(out) < n; seq-- {
		raw, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("read dead letter %d: %w", seq, err)
		}
		out = append(out, toDeadLetter(raw))
	}
	return st.Msgs, out, nil
}
