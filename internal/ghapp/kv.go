package ghapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// updateJSON applies change to the JSON value at key with compare-and-set, retrying when
// another process changed it meanwhile. A missing or undecodable value starts from zero;
// change returns false to leave the value as it is. The value as last seen is returned.
func updateJSON[T any](ctx context.Context, kv jetstream.KeyValue, key string, attempts int, change func(*T) bool) (T, error) {
	for range attempts {
		var v T
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case err == nil:
			rev = e.Revision()
			if json.Unmarshal(e.Value(), &v) != nil {
				var zero T
				v = zero
			}
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return v, err
		}
		if !change(&v) {
			return v, nil
		}
		data, err := json.Marshal(v)
		if err != nil {
			return v, err
		}
		if rev == 0 {
			_, err = kv.Create(ctx, key, data)
		} else {
			_, err = kv.Update(ctx, key, data, rev)
		}
		var apiErr *jetstream.APIError
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			continue
		}
		return v, err
	}
	var zero T
	return zero, fmt.Errorf("%s: still changing after %d attempts", key, attempts)
}
