package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Delivery is one verified webhook delivery, routed to its issue.
type Delivery struct {
	ID             string // X-GitHub-Delivery: the dedup key
	Event          string // X-GitHub-Event
	InstallationID int64
	RepoID         int64 // 0 when the event belongs to no repository
	Number         int   // the issue number; 0 when the event belongs to no issue
	Body           []byte
}

// PublishResult says whether JetStream stored the delivery or already had it.
type PublishResult struct {
	Duplicate bool
	Sequence  uint64
}

// Publish stores the delivery and returns once JetStream has acknowledged it. A delivery id
// the event stream saw within its duplicate window is not stored again (Duplicate).
//
// The ledger is neither read nor written here, so the answer to GitHub costs one JetStream
// round trip: a copy that comes later than the stream's window (or after a restart, which
// empties the stream's table of handled ids) is stored, and the workers' ledger check (Once)
// acknowledges it without handling it.
func (q *Queue) Publish(ctx context.Context, d Delivery) (PublishResult, error) {
	p := DeliveryPartition(d.InstallationID, d.RepoID, d.Number, q.cfg.Partitions)
	data, encoding, release := encodeBody(d.Body)
	defer release() // the connection copied the message before PublishMsg returned
	msg := &nats.Msg{
		Subject: Subject(p, d.InstallationID, d.RepoID, d.Number, d.Event),
		Data:    data,
		Header: nats.Header{
			HeaderEvent:    []string{d.Event},
			HeaderDelivery: []string{d.ID},
			HeaderReceived: []string{time.Now().UTC().Format(time.RFC3339Nano)},
		},
	}
	if encoding != "" {
		msg.Header[HeaderEncoding] = []string{encoding}
	}
	ack, err := q.js.PublishMsg(ctx, msg, jetstream.WithMsgID(d.ID), jetstream.WithExpectStream(EventStream))
	if err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			return PublishResult{}, fmt.Errorf("publish delivery %s (%d bytes): %w", d.ID, len(d.Body), ErrTooLarge)
		}
		return PublishResult{}, fmt.Errorf("publish delivery %s: %w", d.ID, err)
	}
	return PublishResult{Duplicate: ack.Duplicate, Sequence: ack.Sequence}, nil
}
