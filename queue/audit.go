package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func auditSubject(repoID int64, number int) string {
	return fmt.Sprintf("%s.%d.%d", AuditSubjects, repoID, number)
}

// Audit appends one record (encoded as JSON) to the audit trail of an issue (number 0: of the
// repository). A record with an AuditID() string method is stored once per ID within the audit
// stream's duplicate window, so an event retried after a failed write does not repeat it.
func (q *Queue) Audit(ctx context.Context, repoID int64, number int, record any) error {
	data, opts, err := auditMsg(record)
	if err != nil {
		return err
	}
	if _, err := q.js.Publish(ctx, auditSubject(repoID, number), data, opts...); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditBatch appends records (each as Audit does) to the audit trail of an issue, in order,
// publishing them all before waiting for JetStream's acknowledgements.
func (q *Queue) AuditBatch(ctx context.Context, repoID int64, number int, records []any) error {
	futures := make([]jetstream.PubAckFuture, 0, len(records))
	for _, r := range records {
		data, opts, err := auditMsg(r)
		if err != nil {
			return err
		}
		f, err := q.js.PublishAsync(auditSubject(repoID, number), data, opts...)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		futures = append(futures, f)
	}
	var errs []error
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, err)
		case <-ctx.Done():
			return fmt.Errorf("audit: %w", ctx.Err())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// auditMsg encodes an audit record, with its dedup ID when it has one.
func auditMsg(record any) ([]byte, []jetstream.PublishOpt, error) {
	data, err := json.Marshal(record)
	if err != nil {
		return nil, nil, fmt.Errorf("encode audit record: %w", err)
	}
	var opts []jetstream.PublishOpt
	if r, ok := record.(interface{ AuditID() string }); ok && r.AuditID() != "" {
		opts = append(opts, jetstream.WithMsgID(r.AuditID()))
	}
	return data, opts, nil
}

// AuditTrail returns the audit records, oldest first, at most limit of the newest.
func (q *Queue) AuditTrail(ctx context.Context, repoID int64, number int, limit int) ([]json.RawMessage, error) {
	subject := auditSubject(repoID, number)
	s, err := q.js.Stream(ctx, AuditStream)
	if err != nil {
		return nil, fmt.Errorf("audit stream: %w", err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return nil, fmt.Errorf("audit stream info: %w", err)
	}
	total := info.State.Subjects[subject]
	if total == 0 {
		return nil, nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return nil, fmt.Errorf("read audit trail: %w", err)
	}
	var out []json.RawMessage
	for uint64(len(out)) < total {
		batch, err := cons.Fetch(int(min(total-uint64(len(out)), 256)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, fmt.Errorf("read audit trail: %w", err)
		}
		n := 0
		for msg := range batch.Messages() {
			out = append(out, json.RawMessage(msg.Data()))
			n++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("read audit trail: %w", err)
		}
		if n == 0 {
			break
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}
