package notify

import (
	"errors"
	"fmt"
	"time"
)

// Errors are classified the way package queue reads them, by method, so that a Commenter's
// errors (from the GitHub executor, marked with queue.Permanent or carrying RetryAfter) are
// understood here without either package importing the other:
//   - RetryAfter() time.Duration: the channel asked to wait that long (HTTP 429);
//   - Permanent() bool returning true: retrying cannot fix it (HTTP 4xx, SMTP 5xx); the
//     dispatcher still tries a few times (Options.PermanentAttempts) before giving up, as a
//     misconfigured channel is often fixed within minutes;
//   - anything else: transient, retried with backoff.

// SendError is a channel's refusal, with what the dispatcher should do about it. Its message
// never contains a webhook URL.
type SendError struct {
	Msg   string
	Wait  time.Duration // >0: the channel asked to retry after this long
	Final bool          // retrying cannot fix it
}

func (e *SendError) Error() string { return e.Msg }

// RetryAfter is the wait the channel asked for.
func (e *SendError) RetryAfter() time.Duration { return e.Wait }

// Permanent reports whether retrying cannot fix the error.
func (e *SendError) Permanent() bool { return e.Final }

func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

func retryAfter(err error) (time.Duration, bool) {
	var r interface{ RetryAfter() time.Duration }
	if errors.As(err, &r) && r.RetryAfter() > 0 {
		return r.RetryAfter(), true
	}
	return 0, false
}

func sendErrorf(final bool, format string, args ...any) *SendError {
	return &SendError{Msg: fmt.Sprintf(format, args...), Final: final}
}

// Backoff is the delay before retry attempt+1 of a failed send: 1s, 2s, 4s, ... at most 5m.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 10 {
		return 5 * time.Minute
	}
	return min(time.Second<<(attempt-1), 5*time.Minute)
}
