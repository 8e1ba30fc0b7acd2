package ghapp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"
)

// Redelivery is a failed webhook delivery found by RedeliverFailed.
type Redelivery struct {
	ID          int64 // the attempt redelivered
	GUID        string
	Event       string
	Action      string
	StatusCode  int // what the receiver answered (0: no answer)
	DeliveredAt time.Time
	Err         error // the redelivery request failed (nil: GitHub accepted it, or dry run)
}

// RedeliverFailed finds the App's webhook deliveries since the given time that never got a
// 2xx (FailedDeliveries) and asks GitHub to deliver each again, the latest attempt of each
// GUID once. With dryRun it only lists them. The receiver deduplicates by delivery id, so a
// redelivery is always safe.
func (a *App) RedeliverFailed(ctx context.Context, since time.Time, dryRun bool) ([]Redelivery, error) {
	out, err := a.FailedDeliveries(ctx, since)
	if err != nil || dryRun {
		return out, err
	}
	for i := range out {
		out[i].Err = a.Redeliver(ctx, out[i].ID)
	}
	return out, nil
}

// FailedDeliveries lists the App's webhook deliveries since the given time that never got a
// 2xx (a redelivery keeps the GUID, so a delivery redelivered successfully is left out): the
// latest attempt of each GUID, newest first.
func (a *App) FailedDeliveries(ctx context.Context, since time.Time) ([]Redelivery, error) {
	type state struct {
		ok     bool
		latest *github.HookDelivery
	}
	byGUID := map[string]*state{}
	var order []string
	opts := &github.ListCursorOptions{PerPage: 100}
	for done := false; !done; {
		page, resp, err := a.appClient.Apps.ListHookDeliveries(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list webhook deliveries: %w", Classify(err))
		}
		for _, d := range page { // newest first
			if d.GetDeliveredAt().Time.Before(since) {
				done = true
				break
			}
			s, seen := byGUID[d.GetGUID()]
			if !seen {
				s = &state{latest: d}
				byGUID[d.GetGUID()] = s
				order = append(order, d.GetGUID())
			}
			if c := d.GetStatusCode(); c >= 200 && c < 300 {
				s.ok = true
			}
		}
		if resp.Cursor == "" {
			break
		}
		opts.Cursor = resp.Cursor
	}
	var out []Redelivery
	for _, guid := range order {
		s := byGUID[guid]
		if s.ok {
			continue
		}
		d := s.latest
		out = append(out, Redelivery{ID: d.GetID(), GUID: guid, Event: d.GetEvent(), Action: d.GetAction(),
			StatusCode: d.GetStatusCode(), DeliveredAt: d.GetDeliveredAt().Time})
	}
	return out, nil
}

// Redeliver asks GitHub to deliver attempt id again (it answers 202 and delivers later).
func (a *App) Redeliver(ctx context.Context, id int64) error {
	if _, _, err := a.appClient.Apps.RedeliverHookDelivery(ctx, id); err != nil {
		var accepted *github.AcceptedError
		if !errors.As(err, &accepted) {
			return Classify(err)
		}
	}
	return nil
}
