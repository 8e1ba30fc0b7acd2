package handlers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

// fakeDeliveries is GitHub's list of failed deliveries; Redeliver records what was asked.
type fakeDeliveries struct {
	failed  []ghapp.Redelivery // newest first, as GitHub lists them
	refuse  map[int64]bool
	since   []time.Time
	redeliv []int64
}

func (f *fakeDeliveries) FailedDeliveries(_ context.Context, since time.Time) ([]ghapp.Redelivery, error) {
	f.since = append(f.since, since)
	var out []ghapp.Redelivery
	for _, d := range f.failed {
		if !d.DeliveredAt.Before(since) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeDeliveries) Redeliver(_ context.Context, id int64) error {
	f.redeliv = append(f.redeliv, id)
	if f.refuse[id] {
		return errors.New("GitHub says no")
	}
	return nil
}

func TestReconcilerAsksOncePerFailureForWhatTheBotNeverStored(t *testing.T) {
	q, _ := queuetest.Queue(t, queue.Config{Partitions: 1})
	ctx := context.Background()
	now := testNow
	src := &fakeDeliveries{
		failed: []ghapp.Redelivery{
			{ID: 4, GUID: "refused", DeliveredAt: now.Add(-time.Hour)},
			{ID: 3, GUID: "handled-anyway", DeliveredAt: now.Add(-2 * time.Hour)},
			{ID: 2, GUID: "missed", DeliveredAt: now.Add(-3 * time.Hour)},
			{ID: 1, GUID: "too-old", DeliveredAt: now.Add(-80 * time.Hour)},
		},
		refuse: map[int64]bool{4: true},
	}
	// Another attempt of handled-anyway reached the bot and was handled.
	if err := q.RecordHandled(ctx, "handled-anyway"); err != nil {
		t.Fatal(err)
	}
	var reports []handlers.ReconcileReport
	r := &handlers.Reconciler{Source: src, Ledger: q, Store: q, Every: time.Minute, Pace: time.Millisecond,
		Now: func() time.Time { return now }, Observe: func(rep handlers.ReconcileReport) { reports = append(reports, rep) }}

	if _, _, err := r.Reconcile(ctx); err == nil {
		t.Fatal("a refused redelivery was not reported")
	}
	// Within Every, another process (or this one) does not run.
	if _, ok, err := r.Reconcile(ctx); ok || err != nil {
		t.Fatalf("ran again within Every: %v, %v", ok, err)
	}
	now = now.Add(2 * time.Minute)
	src.refuse = nil
	if _, ok, err := r.Reconcile(ctx); !ok || err != nil {
		t.Fatalf("second run: %v, %v", ok, err)
	}
	// The redelivery of missed fails again: a new attempt, asked for once more. Attempt 4 is
	// in the overlap of the listing again: asked for before, not again.
	src.failed = append([]ghapp.Redelivery{{ID: 5, GUID: "missed", DeliveredAt: now.Add(-time.Minute)},
		{ID: 4, GUID: "refused", DeliveredAt: now.Add(-3 * time.Minute)}}, src.failed...)
	now = now.Add(2 * time.Minute)
	if _, ok, err := r.Reconcile(ctx); !ok || err != nil {
		t.Fatalf("third run: %v, %v", ok, err)
	}

	if diff := cmp.Diff([]int64{2, 4, 4, 5}, src.redeliv); diff != "" {
		t.Errorf("redeliveries asked for (-want +got):\n%s", diff)
	}
	// The first run reaches back to GitHub's 3-day window; the next start from the checkpoint,
	// which stays before a refused one.
	wantSince := []time.Time{
		testNow.Add(-72*time.Hour + time.Minute),
		testNow.Add(-time.Hour - time.Second),
		testNow.Add(2*time.Minute - 10*time.Minute),
	}
	if diff := cmp.Diff(wantSince, src.since); diff != "" {
		t.Errorf("listed since (-want +got):\n%s", diff)
	}
	want := []handlers.ReconcileReport{
		{Since: wantSince[0], Failed: 3, Known: 1, Redelivered: 1, Errors: 1},
		{Since: wantSince[1], Failed: 1, Redelivered: 1},
		{Since: wantSince[2], Failed: 2, Asked: 1, Redelivered: 1},
	}
	if diff := cmp.Diff(want, reports); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}
