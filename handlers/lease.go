package handlers

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/queue"
)

// lease shares a periodic job between every process: a memory key holds the time of the last
// run, and the process that moves it (compare-and-set) is the one that runs. Restarts neither
// skip nor repeat runs, and two processes never run the job at once within an interval.
type lease struct {
	store Store
	key   string
	every time.Duration
	now   func() time.Time
}

type leaseRecord struct {
	At time.Time `json:"at"`
}

// untilNext is the wait before the next run is due; without a record, the record is started
// now, so a new deployment runs first one interval after it starts.
func (l lease) untilNext(ctx context.Context) (time.Duration, error) {
	var rec leaseRecord
	rev, err := l.store.LoadMemory(ctx, l.key, &rec)
	if err != nil {
		return 0, err
	}
	if rec.At.IsZero() {
		if err := l.store.StoreMemory(ctx, l.key, leaseRecord{At: l.now().UTC()}, rev); err != nil && !errors.Is(err, queue.ErrConflict) {
			return 0, err
		}
		return l.every, nil
	}
	return max(rec.At.Add(l.every).Sub(l.now()), 0) + time.Second, nil
}

// claim takes the run due now unless some process ran within the last `within`: true means
// this process runs it.
func (l lease) claim(ctx context.Context, within time.Duration) (bool, error) {
	now := l.now()
	var rec leaseRecord
	rev, err := l.store.LoadMemory(ctx, l.key, &rec)
	if err != nil {
		return false, err
	}
	if !rec.At.IsZero() && now.Sub(rec.At) < within {
		return false, nil
	}
	if err := l.store.StoreMemory(ctx, l.key, leaseRecord{At: now.UTC()}, rev); err != nil {
		if errors.Is(err, queue.ErrConflict) {
			return false, nil // another process took this run
		}
		return false, err
	}
	return true, nil
}

// periodic runs a job on a schedule until stopped, in one goroutine that can be waited for.
type periodic struct {
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// start calls run whenever next says it is due. what names the job in the log.
func (p *periodic) start(log *zap.Logger, what string, next func(context.Context) (time.Duration, error), run func(context.Context) error) {
	p.stop = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		<-p.stop
		cancel()
	}()
	go func() {
		defer p.wg.Done()
		for {
			wait, err := next(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				log.Warn(what+" schedule unreadable; retried in a minute", zap.Error(err))
				wait = time.Minute
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if err := run(ctx); err != nil && ctx.Err() == nil {
				log.Warn(what+" incomplete; the next one retries", zap.Error(err))
			}
		}
	}()
}

// halt ends the schedule, interrupting a run in progress, and waits.
func (p *periodic) halt() {
	if p.stop == nil {
		return
	}
	p.once.Do(func() { close(p.stop) })
	p.wg.Wait()
}
