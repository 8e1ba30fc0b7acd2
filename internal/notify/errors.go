package notify

import (
	"fmt"
	"time"
)

// Errors are classified the way package queue reads them (queue.IsPermanent, queue.RetryAfter),
// by method, so that a Commenter's errors (from the GitHub executor, marked with queue.Permanent
// or carrying RetryAfter) and the channels' own SendErrors are read alike:
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

func sendErrorf(final bool, format string, args ...any) *SendError {
	return &SendError{Msg: fmt.Sprintf(format, args...), Final: final}
}
