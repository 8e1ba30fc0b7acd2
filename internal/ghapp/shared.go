package ghapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// SharedLimits keeps the installations' GitHub budgets in a JetStream KV bucket, so that every
// process of a deployment (serve, or N × work) respects them together:
//
//   - the write pace (GitHub's secondary limit on content creation): a write reserves its slot
//     in the installation's schedule with one compare-and-set (GCRA: a theoretical arrival time
//     advanced by one interval per write, bursts allowed), so N processes write at the pace,
//     not N times it;
//   - the waits GitHub asked for (Retry-After, a spent primary budget until its reset): written
//     through when seen, and pushed to every process by a watch of the bucket, so that reads
//     cost no round trip and no process sends inside the window.
//
// State outlives a process and an installation client leaving the cache. Entries expire with
// the bucket's MaxAge (every wait GitHub asks for is shorter).
type SharedLimits struct {
	kv  jetstream.KeyValue
	log *zap.Logger

	mu     sync.Mutex
	blocks map[int64]sharedBlock // from the watch
	w      jetstream.KeyWatcher
	done   chan struct{}
}

// sharedState is an installation's entry in the bucket.
type sharedState struct {
	TAT   int64  `json:"tat,omitempty"`   // unix ns: the write schedule's theoretical arrival time
	Until int64  `json:"until,omitempty"` // unix ns: nothing is sent before this
	Kind  string `json:"kind,omitempty"`  // what Until is for
}

type sharedBlock struct {
	until time.Time
	kind  string
}

func limitKey(installationID int64) string { return "inst." + strconv.FormatInt(installationID, 10) }

// NewSharedLimits watches kv (queue's limits bucket) and returns the shared state; Stop ends
// the watch.
func NewSharedLimits(ctx context.Context, kv jetstream.KeyValue, log *zap.Logger) (*SharedLimits, error) {
	if kv == nil {
		return nil, errors.New("ghapp: shared limits need a KV bucket")
	}
	if log == nil {
		log = zap.NewNop()
	}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("ghapp: watch limits: %w", err)
	}
	s := &SharedLimits{kv: kv, log: log, blocks: map[int64]sharedBlock{}, w: w, done: make(chan struct{})}
	go s.watch()
	return s, nil
}

func (s *SharedLimits) watch() {
	defer close(s.done)
	for e := range s.w.Updates() {
		if e == nil {
			continue // the initial values are all in
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(e.Key(), "inst."), 10, 64)
		var st sharedState
		if err != nil || json.Unmarshal(e.Value(), &st) != nil {
			continue
		}
		s.mu.Lock()
		if st.Until == 0 {
			delete(s.blocks, id)
		} else {
			s.blocks[id] = sharedBlock{until: time.Unix(0, st.Until), kind: st.Kind}
		}
		s.mu.Unlock()
	}
}

// Stop ends the watch and waits for it.
func (s *SharedLimits) Stop() {
	_ = s.w.Stop()
	<-s.done
}

// blocked is the wait the deployment knows of for the installation (no round trip).
func (s *SharedLimits) blocked(installationID int64) (time.Time, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.blocks[installationID]
	return b.until, b.kind
}

// update applies change to the installation's entry with compare-and-set, retrying conflicts.
func (s *SharedLimits) update(ctx context.Context, installationID int64, change func(*sharedState) bool) (sharedState, error) {
	st, err := updateJSON(ctx, s.kv, limitKey(installationID), 50, change)
	if err == nil {
		s.note(installationID, st)
	}
	return st, err
}

// note learns a wait from an entry read or written, ahead of the watch.
func (s *SharedLimits) note(installationID int64, st sharedState) {
	if st.Until == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.blocks[installationID]; time.Unix(0, st.Until).After(b.until) {
		s.blocks[installationID] = sharedBlock{until: time.Unix(0, st.Until), kind: st.Kind}
	}
}

// block records that no request of the installation may be sent before until.
func (s *SharedLimits) block(ctx context.Context, installationID int64, kind string, until time.Time) error {
	_, err := s.update(ctx, installationID, func(st *sharedState) bool {
		if until.UnixNano() <= st.Until {
			return false
		}
		st.Until, st.Kind = until.UnixNano(), kind
		return true
	})
	return err
}

// reserveWrite takes the installation's next write slot: the time the write may be sent
// (now, or later to keep the pace), by the generic cell rate algorithm: one write per
// interval, burst of them back to back. While a wait GitHub asked for runs, no slot is taken:
// blocked is true, and the wait is known to the caller's blocked().
func (s *SharedLimits) reserveWrite(ctx context.Context, installationID int64, now time.Time, interval time.Duration, burst int) (at time.Time, blocked bool, err error) {
	st, err := s.update(ctx, installationID, func(st *sharedState) bool {
		if st.Until > now.UnixNano() {
			blocked = true
			return false
		}
		tat := time.Unix(0, st.TAT)
		at = tat.Add(-time.Duration(burst-1) * interval)
		if at.Before(now) {
			at = now
		}
		if tat.Before(at) {
			tat = at
		}
		st.TAT = tat.Add(interval).UnixNano()
		return true
	})
	if blocked {
		s.note(installationID, st)
	}
	return at, blocked, err
}
