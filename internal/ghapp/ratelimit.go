package ghapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

const (
	// secondaryFloor is GitHub's "wait at least one minute" for a secondary limit without
	// Retry-After; each further one in a row doubles it, up to secondaryCap.
	secondaryFloor = time.Minute
	secondaryCap   = 30 * time.Minute
	// maxLimitRetries bounds the in-process retries of one request after short rate-limit waits.
	maxLimitRetries = 3
	// resetMargin is added to x-ratelimit-reset: it has a one-second resolution and clocks drift.
	resetMargin = time.Second
)

// limitSettings are the rate-limit settings shared by every installation of an App.
type limitSettings struct {
	threshold       time.Duration   // waits up to this long happen in-process
	maxInFlight     int             // concurrent requests per installation
	writesPerMinute float64         // pacing of mutations per installation
	writeBurst      int             // mutations allowed back to back
	notFoundBackoff []time.Duration // the retries of a 404 right after an event
	clock           Clock
	log             *zap.Logger
	onLimit         func(LimitEvent) // see WithLimitObserver; nil: none
	shared          *SharedLimits    // nil: the state is this process's alone
}

// limiter is the rate-limit state of one installation (or of the App's own client).
type limiter struct {
	set            *limitSettings
	installationID int64
	inFlight       chan struct{}
	write          chan struct{} // held for the whole of a mutation: mutations are serial
	pace           *rate.Limiter

	mu      sync.Mutex
	until   time.Time // no request is sent before this
	kind    string    // what until is for
	strikes int       // secondary limits without Retry-After in a row
}

func newLimiter(set *limitSettings, installationID int64) *limiter {
	return &limiter{
		set:            set,
		installationID: installationID,
		inFlight:       make(chan struct{}, set.maxInFlight),
		write:          make(chan struct{}, 1),
		pace:           rate.NewLimiter(rate.Limit(set.writesPerMinute/60), set.writeBurst),
	}
}

// rateLimitTransport sends an installation's requests within GitHub's limits (DESIGN.md §6).
type rateLimitTransport struct {
	lim *limiter
	// renew, when set, makes a new token source: GitHub answered 401 to a token the source
	// still believes valid (expired early by clock skew, or revoked).
	renew func() http.RoundTripper
	// onAuth, when set, is told when GitHub refuses the App's credentials (the token request).
	onAuth func(*AuthError)

	mu   sync.Mutex
	next http.RoundTripper
}

func (t *rateLimitTransport) current() http.RoundTripper {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.next
}

// renewFrom replaces the token source refused, unless a concurrent request already did.
func (t *rateLimitTransport) renewFrom(refused http.RoundTripper) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.next == refused {
		t.next = t.renew()
	}
}

type ctxKey int

const retryNotFoundKey ctxKey = iota

// withNotFoundRetry marks the requests made with ctx as ones whose 404 may be GitHub's eventual
// consistency right after an event (an issue or comment just created): they are retried.
func withNotFoundRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, retryNotFoundKey, true)
}

func isMutation(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// RoundTrip implements http.RoundTripper.
func (t *rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	l := t.lim
	if isMutation(req.Method) {
		select {
		case l.write <- struct{}{}:
		case <-ctx.Done():
			closeBody(req)
			return nil, ctx.Err()
		}
		defer func() { <-l.write }()
	}
	retryNotFound, _ := ctx.Value(retryNotFoundKey).(bool)
	notFound, limited, renewed := 0, 0, false
	for attempt := 0; ; attempt++ {
		send := req
		if attempt > 0 {
			var err error
			if send, err = rewind(req); err != nil {
				return nil, err
			}
		}
		if err := l.awaitClear(ctx); err != nil {
			closeBody(send)
			return nil, err
		}
		if isMutation(req.Method) {
			if err := l.awaitPace(ctx); err != nil {
				closeBody(send)
				return nil, err
			}
		}
		if err := l.takeSlot(ctx); err != nil {
			closeBody(send)
			return nil, err
		}
		next := t.current()
		resp, err := next.RoundTrip(send)
		if err != nil {
			err = l.tokenError(ctx, err)
			<-l.inFlight
			var ae *AuthError
			if errors.As(err, &ae) && t.onAuth != nil {
				t.onAuth(ae)
			}
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && t.renew != nil && !renewed && canRewind(req) {
			<-l.inFlight
			// Once per request: a fresh token refused too is a real authentication problem.
			renewed = true
			discard(resp)
			t.renewFrom(next)
			l.set.log.Warn("GitHub refused the installation token: getting a new one",
				zap.Int64("installation_id", l.installationID), zap.String("method", req.Method), zap.String("path", req.URL.Path))
			continue
		}
		// The slot is given back once the answer's limits are recorded, so that the request
		// waiting for it sees them.
		now := l.set.clock.Now()
		kind, wait := classifyLimit(resp, now, l.strikesNow())
		switch {
		case kind != "":
			l.block(ctx, kind, now.Add(wait))
		case resp.StatusCode != http.StatusUnauthorized:
			// A 401's rate-limit headers are the unauthenticated budget's, not the installation's.
			l.observe(ctx, resp, now)
		}
		<-l.inFlight
		if kind == "" {
			if resp.StatusCode == http.StatusNotFound && retryNotFound && notFound < len(l.set.notFoundBackoff) && canRewind(req) {
				backoff := l.set.notFoundBackoff[notFound]
				notFound++
				discard(resp)
				if err := l.set.clock.Sleep(ctx, backoff); err != nil {
					return nil, err
				}
				continue
			}
			return resp, nil
		}
		discard(resp)
		l.set.log.Warn("GitHub rate limit", zap.Int64("installation_id", l.installationID),
			zap.String("kind", kind), zap.Int("status", resp.StatusCode), zap.Duration("wait", wait),
			zap.String("method", req.Method), zap.String("path", req.URL.Path))
		limited++
		if wait > l.set.threshold || limited > maxLimitRetries || !canRewind(req) || deadlineBefore(ctx, wait) {
			return nil, &RetryAfterError{Wait: wait, Kind: kind, InstallationID: l.installationID, Status: resp.StatusCode}
		}
	}
}

// takeSlot takes one of the installation's in-flight slots. A wait that began while the request
// queued for it (another request's answer was a rate limit) is waited out first, with the slot
// given back: no request leaves once GitHub has said to wait.
func (l *limiter) takeSlot(ctx context.Context) error {
	for {
		select {
		case l.inFlight <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		if l.clearAt(l.set.clock.Now()) {
			return nil
		}
		<-l.inFlight
		if err := l.awaitClear(ctx); err != nil {
			return err
		}
	}
}

// clearAt reports whether no wait GitHub asked for is running at now.
func (l *limiter) clearAt(now time.Time) bool {
	until, _ := l.blockedUntil()
	return !now.Before(until)
}

// blockedUntil is the end of the longest wait known: this process's, or the deployment's.
func (l *limiter) blockedUntil() (time.Time, string) {
	l.mu.Lock()
	until, kind := l.until, l.kind
	l.mu.Unlock()
	if l.set.shared != nil {
		if su, sk := l.set.shared.blocked(l.installationID); su.After(until) {
			until, kind = su, sk
		}
	}
	return until, kind
}

// tokenError handles a failure of ghinstallation's token request, whose response body it
// leaves open: the body is read (so the error stays inspectable) and closed (so the connection
// is not leaked), and a rate limit there blocks the installation like any other.
func (l *limiter) tokenError(ctx context.Context, err error) error {
	var he *ghinstallation.HTTPError
	if !errors.As(err, &he) || he.Response == nil || he.Response.Body == nil {
		return err
	}
	data, _ := io.ReadAll(io.LimitReader(he.Response.Body, 64<<10))
	he.Response.Body.Close()
	he.Response.Body = io.NopCloser(bytes.NewReader(data))
	now := l.set.clock.Now()
	kind, wait := classifyLimit(he.Response, now, l.strikesNow())
	he.Response.Body = io.NopCloser(bytes.NewReader(data))
	if kind == "" {
		if he.Response.StatusCode == http.StatusUnauthorized {
			return &AuthError{Status: http.StatusUnauthorized, What: fmt.Sprintf("the token of installation %d", l.installationID), Err: err}
		}
		return err
	}
	l.block(ctx, kind, now.Add(wait))
	return fmt.Errorf("%w (installation token: %v)", &RetryAfterError{Wait: wait, Kind: kind, InstallationID: l.installationID, Status: he.Response.StatusCode}, err)
}

// awaitClear waits out a short wait GitHub asked for, and fails fast with a RetryAfterError
// when the rest of the wait is longer than the threshold: nothing is sent meanwhile.
func (l *limiter) awaitClear(ctx context.Context) error {
	for {
		until, kind := l.blockedUntil()
		wait := until.Sub(l.set.clock.Now())
		if wait <= 0 {
			return nil
		}
		if wait > l.set.threshold || deadlineBefore(ctx, wait) {
			return &RetryAfterError{Wait: wait, Kind: kind, InstallationID: l.installationID}
		}
		if err := l.set.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// deadlineBefore reports whether ctx ends before a wait of d would: waiting is then useless,
// and the caller is better off with the RetryAfterError at once.
func deadlineBefore(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < d
}

// awaitPace keeps mutations under GitHub's content-creation limit: the deployment's pace when
// it is shared, else this process's.
func (l *limiter) awaitPace(ctx context.Context) error {
	now := l.set.clock.Now()
	if sh := l.set.shared; sh != nil {
		interval := time.Duration(float64(time.Minute) / l.set.writesPerMinute)
		for {
			at, blocked, err := sh.reserveWrite(ctx, l.installationID, now, interval, l.set.writeBurst)
			switch {
			case err == nil && blocked:
				// Another process was told to wait: wait too, or give up with the wait.
				if err := l.awaitClear(ctx); err != nil {
					return err
				}
				now = l.set.clock.Now()
				continue
			case err == nil:
				return l.set.clock.Sleep(ctx, at.Sub(now))
			case ctx.Err() != nil:
				return ctx.Err()
			}
			l.set.log.Warn("shared write pace unavailable: pacing this process alone", zap.Int64("installation_id", l.installationID), zap.Error(err))
			break
		}
	}
	r := l.pace.ReserveN(now, 1)
	if !r.OK() {
		return nil
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if err := l.set.clock.Sleep(ctx, d); err != nil {
		r.CancelAt(l.set.clock.Now())
		return err
	}
	return nil
}

func (l *limiter) strikesNow() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.strikes
}

// block stops every request of the installation until the given time, in every process when
// the state is shared.
func (l *limiter) block(ctx context.Context, kind string, until time.Time) {
	l.mu.Lock()
	if kind == KindSecondary {
		l.strikes++
	}
	if until.After(l.until) {
		l.until, l.kind = until, kind
	}
	l.mu.Unlock()
	l.announce(ctx, kind, until)
}

// announce tells the observer (metrics) and the other processes of a wait GitHub asked for.
func (l *limiter) announce(ctx context.Context, kind string, until time.Time) {
	if l.set.onLimit != nil {
		l.set.onLimit(LimitEvent{InstallationID: l.installationID, Kind: kind, Until: until})
	}
	l.share(ctx, kind, until)
}

// share tells the other processes of a wait GitHub asked for.
func (l *limiter) share(ctx context.Context, kind string, until time.Time) {
	if l.set.shared == nil {
		return
	}
	if err := l.set.shared.block(context.WithoutCancel(ctx), l.installationID, kind, until); err != nil {
		l.set.log.Warn("rate limit not shared with the other processes", zap.Int64("installation_id", l.installationID), zap.Error(err))
	}
}

// observe learns from an answer that is not a rate limit: a secondary-limit streak ends, and a
// primary budget that is spent (x-ratelimit-remaining: 0 on a success) blocks further requests
// until it resets, instead of letting the next one be refused.
func (l *limiter) observe(ctx context.Context, resp *http.Response, now time.Time) {
	l.mu.Lock()
	l.strikes = 0
	if resp.Header.Get("X-Ratelimit-Remaining") != "0" {
		l.mu.Unlock()
		return
	}
	var spent time.Time
	if reset, ok := parseReset(resp.Header.Get("X-Ratelimit-Reset")); ok {
		if until := reset.Add(resetMargin); until.After(l.until) && until.After(now) {
			l.until, l.kind = until, KindPrimary
			spent = until
		}
	}
	l.mu.Unlock()
	if !spent.IsZero() {
		l.announce(ctx, KindPrimary, spent)
	}
}

// classifyLimit says whether resp is a rate limit, which kind, and how long GitHub wants the
// client to wait. GitHub's rules (REST "Rate limits"): Retry-After first; then
// x-ratelimit-remaining 0 means wait until x-ratelimit-reset; otherwise a secondary limit
// without a header: at least a minute, growing exponentially while they keep coming.
func classifyLimit(resp *http.Response, now time.Time, strikes int) (kind string, wait time.Duration) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return "", 0
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if d, ok := parseRetryAfter(ra, now); ok {
			return KindSecondary, d
		}
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if reset, ok := parseReset(resp.Header.Get("X-Ratelimit-Reset")); ok {
			wait = reset.Add(resetMargin).Sub(now)
			if wait < resetMargin {
				wait = resetMargin
			}
			return KindPrimary, wait
		}
		return KindPrimary, secondaryFloor
	}
	if resp.StatusCode == http.StatusForbidden && !mentionsRateLimit(resp) {
		return "", 0 // a real permission problem
	}
	wait = secondaryFloor
	for i := 0; i < strikes && wait < secondaryCap; i++ {
		wait *= 2
	}
	return KindSecondary, min(wait, secondaryCap)
}

// mentionsRateLimit reads a 403's body (and puts it back) to tell a secondary limit from a
// permission error.
func mentionsRateLimit(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	var body struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	_ = json.Unmarshal(data, &body)
	msg := strings.ToLower(body.Message)
	return strings.Contains(msg, "rate limit") || strings.Contains(msg, "abuse") ||
		strings.HasSuffix(body.DocumentationURL, "secondary-rate-limits") ||
		strings.HasSuffix(body.DocumentationURL, "#abuse-rate-limits")
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func parseReset(v string) (time.Time, bool) {
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}

func canRewind(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewind is a copy of req with a fresh body, for sending it again.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	return r, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// discard drains and closes a response that will not be handed on, so the connection is reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}
