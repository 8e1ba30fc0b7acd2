package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DeliveryBucket is the delivery ledger: one key per delivery id handled within the dedup
// window. The event stream's own duplicate table is not enough: a
// work-queue stream deletes acknowledged messages, and nats-server rebuilds that table only
// from the messages it still stores, so after a restart it has forgotten every id it handled.
const DeliveryBucket = "triagebot-deliveries"

// RedeliveryBucket records the failed delivery attempts the reconciler asked GitHub to
// redeliver, so it asks once per failure; an entry outlives GitHub's 3-day redelivery window.
const RedeliveryBucket = "triagebot-redeliveries"

// DeliveryHandled is the ledger's value for a delivery a worker handled: a copy stored again
// is acknowledged without being handled.
const DeliveryHandled = "handled"

// DefaultDedupWindow is how long a delivery id is remembered: GitHub keeps deliveries for 3
// days, and anyone with access (or the reconciler) can redeliver one until then.
const DefaultDedupWindow = 72 * time.Hour

// streamDedupCap bounds the event stream's own duplicate window, which nats-server keeps in
// memory: the ledger remembers ids for the whole dedup window.
const streamDedupCap = 2 * time.Hour

var validKey = regexp.MustCompile(`^[-/_=a-zA-Z0-9]+(\.[-/_=a-zA-Z0-9]+)*$`)

// ledgerKey is the bucket key of a delivery id: the id itself when it is a valid key (GitHub's
// are UUIDs), else a digest of it.
func ledgerKey(id string) string {
	if validKey.MatchString(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256-" + hex.EncodeToString(sum[:])
}

func (q *Queue) setupLedger(ctx context.Context) error {
	var err error
	if q.ledger, err = Bucket(ctx, q.js, DeliveryBucket, "delivery ids seen within the dedup window, and whether they were handled",
		q.cfg.Replicas, q.cfg.DedupWindow); err != nil {
		return err
	}
	if q.redeliveries, err = Bucket(ctx, q.js, RedeliveryBucket, "delivery ids the reconciler asked GitHub to redeliver",
		q.cfg.Replicas, 73*time.Hour); err != nil {
		return err
	}
	return nil
}

// RedeliveryAsked reports whether a redelivery of id (a failed attempt) was asked for.
func (q *Queue) RedeliveryAsked(ctx context.Context, id string) (bool, error) {
	_, err := q.redeliveries.Get(ctx, ledgerKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redelivery ledger %s: %w", id, err)
	}
	return true, nil
}

// RecordRedelivery notes that GitHub accepted a redelivery of id (a failed attempt).
func (q *Queue) RecordRedelivery(ctx context.Context, id string) error {
	if _, err := q.redeliveries.Put(ctx, ledgerKey(id), []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("redelivery ledger %s: %w", id, err)
	}
	return nil
}

// DeliveryState is what the ledger knows of delivery id within the dedup window: "" (not
// handled) or DeliveryHandled.
func (q *Queue) DeliveryState(ctx context.Context, id string) (string, error) {
	e, err := q.ledger.Get(ctx, ledgerKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("delivery ledger %s: %w", id, err)
	}
	return string(e.Value()), nil
}

// RecordHandled notes that id was handled: a copy delivered again within the window is skipped.
func (q *Queue) RecordHandled(ctx context.Context, id string) error {
	if _, err := q.ledger.Put(ctx, ledgerKey(id), []byte(DeliveryHandled)); err != nil {
		return fmt.Errorf("delivery ledger %s: %w", id, err)
	}
	return nil
}

// Once wraps h so that a delivery id is handled at most once within the dedup window, even if
// the stream stored it twice: a delivery the ledger says was handled is acknowledged without
// calling h, and one h handled is recorded before the consumer acknowledges it. A process that
// dies between h's effects and the record handles the event again; the executor's effects are
// idempotent (labels are set, not toggled; comments carry markers), so nothing is done twice.
func (q *Queue) Once(h Handler) Handler {
	return func(ctx context.Context, m Message) error {
		if m.DeliveryID == "" {
			return h(ctx, m)
		}
		state, err := q.DeliveryState(ctx, m.DeliveryID)
		if err != nil {
			return err // transient: retried
		}
		if state == DeliveryHandled {
			return errAlreadyHandled
		}
		if err := h(ctx, m); err != nil {
			return err
		}
		return q.RecordHandled(ctx, m.DeliveryID)
	}
}

// errAlreadyHandled tells the consumer to acknowledge a copy of a handled delivery, and the
// observer why it was not handled.
var errAlreadyHandled = errors.New("delivery already handled")
