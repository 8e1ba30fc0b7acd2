package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// handledMetric counts the deliveries a triagebot handled (every result).
const handledMetric = "triagebot_events_handled_total"

// handledCount reads the triagebot's handled deliveries from its /metrics.
func handledCount(ctx context.Context, client *http.Client, url string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", url, err)
	}
	var n float64
	for _, m := range families[handledMetric].GetMetric() {
		n += m.GetCounter().GetValue()
	}
	return n, nil
}

// handledWatch measures how long a triagebot takes to handle what it was sent: the count
// before sending, then (wait) polled until it has grown by the deliveries answered 202.
type handledWatch struct {
	url    string
	client *http.Client
	before float64
}

func watchHandled(ctx context.Context, url string) (*handledWatch, error) {
	w := &handledWatch{url: url, client: &http.Client{Timeout: 10 * time.Second}}
	var err error
	if w.before, err = handledCount(ctx, w.client, url); err != nil {
		return nil, fmt.Errorf("-handled: %w", err)
	}
	return w, nil
}

// wait polls until want more deliveries are handled or settle has passed, and prints the time
// from the first delivery sent (start) and from the last answer (end).
func (w *handledWatch) wait(ctx context.Context, out io.Writer, want int, start, end time.Time, settle time.Duration) error {
	deadline := time.Now().Add(settle)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := handledCount(ctx, w.client, w.url)
		if err != nil {
			return fmt.Errorf("-handled: %w", err)
		}
		if got := int(n - w.before); got >= want || time.Now().After(deadline) {
			at := time.Now()
			fmt.Fprintf(out, "handled %d of %d in %s from the first delivery sent (%.0f events/s), the last %s after the last answer\n",
				got, want, at.Sub(start).Round(time.Millisecond), float64(got)/at.Sub(start).Seconds(), at.Sub(end).Round(time.Millisecond))
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
