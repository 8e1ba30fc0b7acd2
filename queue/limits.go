package queue

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// LimitsBucket holds each installation's GitHub budget (write pace, waits GitHub asked for),
// shared by every process: see ghapp.SharedLimits.
const LimitsBucket = "triagebot-limits"

// Limits creates (or updates) and returns the limits bucket. Its entries expire after two
// hours: every wait GitHub asks for (a primary reset, a Retry-After) is shorter.
func (q *Queue) Limits(ctx context.Context) (jetstream.KeyValue, error) {
	return Bucket(ctx, q.js, LimitsBucket, "per-installation GitHub budgets shared by the workers", q.cfg.Replicas, 2*time.Hour)
}
