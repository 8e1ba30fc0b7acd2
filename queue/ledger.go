package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeliveryBucket is the delivery ledger: one key per delivery id seen within the dedup window,
// whose value says how far it got. The event stream's own duplicate table is not enough: a
// work-queue stream deletes acknowledged messages, and nats-server rebuilds that table only
// from the messages it still stores, so after a restart it has forgotten every id it handled.
const DeliveryBucket = "triagebot-deliveries"

// RedeliveryBucket records the failed delivery attempts the reconciler asked GitHub to
// redeliver, so it asks once per failure; an entry outlives GitHub's 3-day redelivery window.
const RedeliveryBucket = "triagebot-redeliveries"

// States of a delivery in the ledger.
const (
	DeliveryStored  = "stored"  // the receiver stored it in the event stream
	DeliveryHandled = "handled" // a worker handled it; a copy stored twice is skipped
)

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
	// A context of its own for the ledger notes, so that their failures are counted here.
	if q.notes, err = jetstream.New(q.js.Conn(), jetstream.WithPublishAsyncErrHandler(q.noteFailed),
		jetstream.WithPublishAsyncMaxPending(maxPendingNotes), jetstream.WithPublishAsyncTimeout(noteTimeout)); err != nil {
		return fmt.Errorf("ledger notes: %w", err)
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

// DeliveryState is how far delivery id got within the dedup window: "" (never seen),
// DeliveryStored or DeliveryHandled.
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

// Ledger notes of stored deliveries are written without waiting for JetStream's answer. At
// most maxPendingNotes wait for theirs; a note that finds no room within noteStall, or whose
// answer is an error or does not come within noteTimeout, is counted in NotesLost.
const (
	maxPendingNotes = 4096
	noteStall       = 10 * time.Millisecond
	noteTimeout     = 10 * time.Second
)

var storedValue = []byte(DeliveryStored)

// noteStored notes that id was stored, unless the ledger already knows it, without waiting.
//
// A lost note loses no delivery and handles none twice: the event is stored before the note is
// sent, and the workers' check (Once) reads only "handled". All a missing "stored" changes is
// the reconciler's view: if GitHub also counts that delivery as failed (it gave up waiting for
// the answer), the reconciler asks for a redelivery, which the stream's duplicate window drops
// or, later, the workers acknowledge unhandled once the first copy is handled. Notes are still
// sent if the process stops gracefully (the connection drains); a crash can lose the few in
// flight, as the written-then-waited note could be lost by a crash between the store and it.
func (q *Queue) noteStored(id string) {
	// The key's subject as jetstream.KeyValue.Create writes it (a bucket of this JetStream
	// context, not a mirror), with the same condition: no value yet.
	msg := &nats.Msg{Subject: "$KV." + DeliveryBucket + "." + ledgerKey(id), Data: storedValue}
	if _, err := q.notes.PublishMsgAsync(msg, jetstream.WithExpectLastSequencePerSubject(0),
		jetstream.WithStallWait(noteStall)); err != nil {
		q.notesLost.Add(1)
	}
}

// noteFailed is told of each note JetStream refused or did not answer in time.
func (q *Queue) noteFailed(_ jetstream.JetStream, _ *nats.Msg, err error) {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return // the ledger knew the id already (a worker handled it first)
	}
	q.notesLost.Add(1)
}

// NotesLost counts the ledger notes of stored deliveries that were not written (see
// noteStored: each can cost a needless redelivery request, never a delivery).
func (q *Queue) NotesLost() int64 { return q.notesLost.Load() }

// NotesWritten is closed once every ledger note sent so far has JetStream's answer.
func (q *Queue) NotesWritten() <-chan struct{} { return q.notes.PublishAsyncComplete() }

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
