package ghapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// RetryAfterError says GitHub asked the bot to wait (a primary or secondary rate limit) longer
// than the transport waits in-process. The worker turns it into NakWithDelay(RetryAfter()).
// Until the wait is over, no request of that installation is sent: they fail fast with this
// error (or wait in-process when the rest of the wait is short).
type RetryAfterError struct {
	Wait           time.Duration
	Kind           string // "primary" or "secondary"
	InstallationID int64  // 0 for the App's own client
	Status         int    // the HTTP status GitHub answered (403 or 429); 0 when nothing was sent
}

func (e *RetryAfterError) Error() string {
	sent := "not sent"
	if e.Status != 0 {
		sent = fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("GitHub %s rate limit for installation %d (%s): retry after %s", e.Kind, e.InstallationID, sent, e.Wait.Round(time.Second))
}

// RetryAfter is how long to wait before trying again.
func (e *RetryAfterError) RetryAfter() time.Duration { return e.Wait }

// The rate-limit kinds of RetryAfterError.
const (
	KindPrimary   = "primary"
	KindSecondary = "secondary"
)

// PermanentError is a GitHub answer that retrying cannot fix: a 4xx other than a rate limit
// (401, 403 without a rate limit, 404 after the retries, 410, 422, ...). The worker
// dead-letters the event.
type PermanentError struct {
	Status int // HTTP status; 0 when the request was never valid
	Err    error
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports true: retrying does not help.
func (e *PermanentError) Permanent() bool { return true }

// TransientError is a failure that a later attempt may not see: 5xx, a network error, a
// timeout. Permanent reports false; the worker retries with backoff.
type TransientError struct {
	Status int // HTTP status; 0 for network errors
	Err    error
}

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Permanent reports false.
func (e *TransientError) Permanent() bool { return false }

// Classify wraps an error of a go-github call into one of RetryAfterError, PermanentError or
// TransientError, keeping the original in the chain. Errors already classified, and context
// errors, are returned as they are (a cancelled context is the worker shutting down).
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var ra *RetryAfterError
	var pe *PermanentError
	var te *TransientError
	var ae *AuthError
	if errors.As(err, &ra) || errors.As(err, &pe) || errors.As(err, &te) || errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var rle *github.RateLimitError
	if errors.As(err, &rle) {
		wait := time.Until(rle.Rate.Reset.Time)
		if wait < time.Second {
			wait = time.Second
		}
		return fmt.Errorf("%w (%v)", &RetryAfterError{Wait: wait, Kind: KindPrimary, Status: http.StatusForbidden}, err)
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		wait := secondaryFloor
		if abuse.RetryAfter != nil && *abuse.RetryAfter > 0 {
			wait = *abuse.RetryAfter
		}
		return fmt.Errorf("%w (%v)", &RetryAfterError{Wait: wait, Kind: KindSecondary, Status: http.StatusForbidden}, err)
	}
	if na, ok := notAccessibleErr(err); ok {
		return na
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return byStatus(er.Response.StatusCode, err)
	}
	// The token endpoint is called by ghinstallation directly: its limits are classified here.
	var he *ghinstallation.HTTPError
	if errors.As(err, &he) && he.Response != nil {
		if kind, wait := classifyLimit(he.Response, time.Now(), 0); kind != "" {
			return fmt.Errorf("%w (%v)", &RetryAfterError{Wait: wait, Kind: kind, InstallationID: he.InstallationID, Status: he.Response.StatusCode}, err)
		}
		return byStatus(he.Response.StatusCode, err)
	}
	return &TransientError{Err: err}
}

// byStatus classifies an HTTP error status.
func byStatus(status int, err error) error {
	switch {
	case status == http.StatusTooManyRequests:
		return fmt.Errorf("%w (%v)", &RetryAfterError{Wait: secondaryFloor, Kind: KindSecondary, Status: status}, err)
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusConflict:
		return &TransientError{Status: status, Err: err}
	case status >= 400:
		return &PermanentError{Status: status, Err: err}
	}
	return &TransientError{Status: status, Err: err}
}

// statusOf is the HTTP status of a go-github error, or 0.
func statusOf(err error) int {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return pe.Status
	}
	return 0
}
