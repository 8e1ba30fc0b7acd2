package queue

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ForgetKeys deletes, with their history, the keys of kv that match filters (NATS subject
// filters: "issue.42.>"). An uninstalled repository's memory and cached configuration go this way.
func ForgetKeys(ctx context.Context, kv jetstream.KeyValue, filters ...string) (int, error) {
	lister, err := kv.ListKeysFiltered(ctx, filters...)
	if err != nil {
		return 0, fmt.Errorf("list keys of %s: %w", kv.Bucket(), err)
	}
	var keys []string
	for k := range lister.Keys() { // closed once every key is listed
		keys = append(keys, k)
	}
	_ = lister.Stop() // the listing is over; its subscription may already be gone
	for _, k := range keys {
		if err := kv.Purge(ctx, k); err != nil {
			return 0, fmt.Errorf("purge %s of %s: %w", k, kv.Bucket(), err)
		}
	}
	return len(keys), nil
}

// MemoryBucket is the bot's memory bucket.
func (q *Queue) MemoryBucket() jetstream.KeyValue { return q.memory }
