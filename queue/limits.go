package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// LimitsBucket holds each installation's GitHub budget (write pace, waits GitHub asked for),
// shared by every process: see ghapp.SharedLimits.
const LimitsBucket = "triagebot-limits"

// Limits creates (or updates) and returns the limits bucket. Its entries expire after two
// hours: every wait GitHub asks for (a primary reset, a Retry-After) is shorter.
func (q *Queue) Limits(ctx context.Context) (jetstream.KeyValue, error) {
	kv, err := q.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      LimitsBucket,
		Description: "per-installation GitHub budgets shared by the workers",
		Storage:     jetstream.FileStorage,
		Replicas:    q.cfg.Replicas,
		History:     1,
		TTL:         2 * time.Hour,
	})
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", LimitsBucket, err)
	}
	return kv, nil
}
