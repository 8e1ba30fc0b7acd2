package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/ghapp"
)

// Defaults of the reconciler.
const (
	DefaultReconcileEvery = 5 * time.Minute
	DefaultReconcilePace  = time.Second // one redelivery request a second: the App's JWT allows 5,000 an hour
	// GitHubRedeliveryWindow is how long GitHub keeps a delivery and will redeliver it.
	GitHubRedeliveryWindow = 72 * time.Hour
)

// DeliverySource is what the reconciler asks of GitHub; the App implements it.
type DeliverySource interface {
	// FailedDeliveries are the deliveries since the given time that never got a 2xx, the
	// latest attempt of each delivery id.
	FailedDeliveries(ctx context.Context, since time.Time) ([]ghapp.Redelivery, error)
	// Redeliver asks GitHub to deliver attempt id again.
	Redeliver(ctx context.Context, id int64) error
}

// DeliveryLedger is what the reconciler knows of delivery ids: the queue implements it.
type DeliveryLedger interface {
	// DeliveryState is "" for an id never stored within the dedup window.
	DeliveryState(ctx context.Context, id string) (string, error)
	// RedeliveryAsked reports whether a redelivery of attempt (a delivery id and the failed
	// attempt's number) was asked for; RecordRedelivery notes one GitHub accepted.
	RedeliveryAsked(ctx context.Context, attempt string) (bool, error)
	RecordRedelivery(ctx context.Context, attempt string) error
}

// ReconcileReport is what one reconciliation found and did.
type ReconcileReport struct {
	Since       time.Time
	Failed      int // deliveries GitHub could not make (no 2xx) since the checkpoint
	Known       int // of those, ids the bot stored anyway (another attempt reached it)
	Asked       int // of those, failed attempts asked for before (by this or another process)
	Redelivered int // redeliveries GitHub accepted
	Errors      int // redeliveries GitHub refused: asked again on the next run
}

// Reconciler recovers the deliveries GitHub could not make while the bot was down or
// answering errors, without being asked: at start and every Every, one process at a time (a
// lease in the memory bucket), it lists the App's failed deliveries since its checkpoint and
// asks GitHub to redeliver each one whose id the bot has not stored, once per failed attempt,
// paced.
type Reconciler struct {
	Source  DeliverySource
	Ledger  DeliveryLedger
	Store   Store // the lease and the checkpoint
	Logger  *zap.Logger
	Now     func() time.Time
	Every   time.Duration         // default DefaultReconcileEvery
	Pace    time.Duration         // between redelivery requests; default DefaultReconcilePace
	Observe func(ReconcileReport) // after each run, for metrics

	loop periodic
}

const (
	reconcileLeaseKey      = "reconcile.lease"
	reconcileCheckpointKey = "reconcile.checkpoint"
	// reconcileOverlap is listed again on each run: GitHub lists a delivery a little after it
	// was attempted.
	reconcileOverlap = 10 * time.Minute
)

type reconcileCheckpoint struct {
	Since time.Time `json:"since"`
}

func (r *Reconciler) defaults() {
	if r.Every <= 0 {
		r.Every = DefaultReconcileEvery
	}
	if r.Pace <= 0 {
		r.Pace = DefaultReconcilePace
	}
	if r.Logger == nil {
		r.Logger = zap.NewNop()
	}
	if r.Now == nil {
		r.Now = time.Now
	}
}

func (r *Reconciler) lease() lease {
	return lease{store: r.Store, key: reconcileLeaseKey, every: r.Every, now: r.Now}
}

// Start reconciles now and then every Every (with every process: whichever is due), until Stop.
func (r *Reconciler) Start() {
	r.defaults()
	first := true
	next := func(ctx context.Context) (time.Duration, error) {
		if first {
			return 0, nil
		}
		return r.lease().untilNext(ctx)
	}
	run := func(ctx context.Context) error {
		within := r.Every
		if first {
			// Every process reconciles as it starts: it may have been down. Runs are
			// idempotent (claims per failed attempt), so processes starting together cost
			// only their listings.
			first, within = false, 0
		}
		_, _, err := r.reconcile(ctx, within)
		return err
	}
	r.loop.start(r.Logger, "delivery reconciliation", next, run)
}

// Stop ends the schedule, interrupting a run in progress, and waits.
func (r *Reconciler) Stop() { r.loop.halt() }

// Reconcile runs one reconciliation now unless another process ran one within Every; ok is
// false when it did not run.
func (r *Reconciler) Reconcile(ctx context.Context) (rep ReconcileReport, ok bool, err error) {
	r.defaults()
	return r.reconcile(ctx, r.Every)
}

func (r *Reconciler) reconcile(ctx context.Context, within time.Duration) (ReconcileReport, bool, error) {
	if ok, err := r.lease().claim(ctx, within); err != nil || !ok {
		return ReconcileReport{}, false, err
	}
	now := r.Now()
	var cp reconcileCheckpoint
	rev, err := r.Store.LoadMemory(ctx, reconcileCheckpointKey, &cp)
	if err != nil {
		return ReconcileReport{}, true, err
	}
	// GitHub redelivers for 3 days: anything older is out of reach (a minute of margin).
	oldest := now.Add(-GitHubRedeliveryWindow + time.Minute)
	rep := ReconcileReport{Since: cp.Since}
	if rep.Since.Before(oldest) {
		rep.Since = oldest
	}
	failed, err := r.Source.FailedDeliveries(ctx, rep.Since)
	if err != nil {
		return rep, true, fmt.Errorf("list failed deliveries: %w", err)
	}
	rep.Failed = len(failed)
	slices.Reverse(failed) // oldest first, as they happened
	next := now.Add(-reconcileOverlap)
	var errs []error
	for _, d := range failed {
		log := r.Logger.With(zap.String(LogKeyDeliveryID, d.GUID), zap.String(LogKeyEvent, d.Event), zap.String(LogKeyAction, d.Action))
		state, err := r.Ledger.DeliveryState(ctx, d.GUID)
		if err != nil {
			return rep, true, err
		}
		if state != "" {
			rep.Known++
			continue
		}
		// Once per failed attempt, however many processes and runs see it; a redelivery that
		// fails again is a new attempt, asked for again. The record follows GitHub's answer: a
		// process that dies in between asks twice, and the ledger drops the second delivery,
		// where a record made first would lose the delivery for good.
		attempt := fmt.Sprintf("%s.%d", d.GUID, d.ID)
		asked, err := r.Ledger.RedeliveryAsked(ctx, attempt)
		if err != nil {
			return rep, true, err
		}
		if asked {
			rep.Asked++
			continue
		}
		if rep.Redelivered+rep.Errors > 0 {
			if err := sleepCtx(ctx, r.Pace); err != nil {
				return rep, true, err
			}
		}
		if err := r.Source.Redeliver(ctx, d.ID); err != nil {
			rep.Errors++
			errs = append(errs, fmt.Errorf("redeliver %s: %w", d.GUID, err))
			log.Warn("redelivery refused by GitHub; asked again on the next run", zap.Error(err))
			// The checkpoint stays before it, so the next run lists it again.
			if d.DeliveredAt.Before(next) {
				next = d.DeliveredAt.Add(-time.Second)
			}
			continue
		}
		if err := r.Ledger.RecordRedelivery(ctx, attempt); err != nil {
			errs = append(errs, err)
		}
		rep.Redelivered++
		log.Info("redelivery asked for", zap.Int("status", d.StatusCode), zap.Time("delivered_at", d.DeliveredAt))
	}
	if next.After(cp.Since) {
		if err := r.Store.StoreMemory(ctx, reconcileCheckpointKey, reconcileCheckpoint{Since: next.UTC()}, rev); err != nil {
			errs = append(errs, fmt.Errorf("store checkpoint: %w", err))
		}
	}
	r.Logger.Info("deliveries reconciled", zap.Time("since", rep.Since), zap.Int("failed", rep.Failed),
		zap.Int("stored_anyway", rep.Known), zap.Int("asked_before", rep.Asked),
		zap.Int("redelivered", rep.Redelivered), zap.Int("refused", rep.Errors))
	if r.Observe != nil {
		r.Observe(rep)
	}
	return rep, true, errors.Join(errs...)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
