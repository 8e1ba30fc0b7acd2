package ops

import (
	"sync"
	"time"
)

// minuteRing counts events per second over the last minute.
type minuteRing struct {
	count [60]int
	stamp [60]int64 // the unix second each bucket counts
}

func (r *minuteRing) add(now time.Time) {
	sec := now.Unix()
	i := int(sec % 60)
	if r.stamp[i] != sec {
		r.stamp[i], r.count[i] = sec, 0
	}
	r.count[i]++
}

func (r *minuteRing) lastMinute(now time.Time) int {
	sec, n := now.Unix(), 0
	for i, c := range r.count {
		if sec-r.stamp[i] < 60 {
			n += c
		}
	}
	return n
}

// PerMinute counts what happened in the last minute (events handled by this process).
type PerMinute struct {
	now  func() time.Time
	mu   sync.Mutex
	ring minuteRing
}

// NewPerMinute is a PerMinute on the clock now.
func NewPerMinute(now func() time.Time) *PerMinute { return &PerMinute{now: now} }

// Add counts one.
func (p *PerMinute) Add() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ring.add(p.now())
}

// LastMinute is the count of the last 60 seconds.
func (p *PerMinute) LastMinute() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ring.lastMinute(p.now())
}
