package ghapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/queue"
)

// AuthError means GitHub refused the App's own credentials: a 401 on GET /app or on an
// installation token request, whose JWT is signed with TRIAGEBOT_PRIVATE_KEY_FILE for
// TRIAGEBOT_APP_ID. It is the operator's configuration, not the event's fault: it is neither
// permanent (the event must not be dead-lettered) nor a retry of its own (retrying an event
// cannot fix it); the AuthGate holds events until GitHub accepts the credentials again.
type AuthError struct {
	Status int    // 401
	What   string // the request GitHub refused, e.g. "installation token for 42"
	Err    error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("GitHub refused the App's credentials (HTTP %d on %s): %v", e.Status, e.What, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// Permanent reports false: the event is not at fault.
func (e *AuthError) Permanent() bool { return false }

// IsAuthError reports whether err is, or wraps, an *AuthError.
func IsAuthError(err error) bool {
	var ae *AuthError
	return errors.As(err, &ae)
}

// authAdvice is what the log and /readyz tell the operator to check.
const authAdvice = "check that TRIAGEBOT_APP_ID is the App's ID, that TRIAGEBOT_PRIVATE_KEY_FILE holds a private key " +
	"GitHub lists for that App (App settings, Private keys), and that this machine's clock is right"

// AuthGate is the App's "GitHub accepts our credentials" state. While GitHub refuses them,
// events wait in Guard (their messages held and kept alive, not retried: a retry would count
// an attempt and dead-letter them in the end), one waiter at a time probes GitHub with
// exponential backoff, and Status reports the reason for /readyz.
type AuthGate struct {
	clock      Clock
	log        *zap.Logger
	first, max time.Duration

	mu      sync.Mutex
	err     *AuthError
	probe   func(ctx context.Context) error // asks again what GitHub refused
	wait    time.Duration                   // before the next probe
	probing bool
	changed chan struct{} // closed and replaced when the state changes or a prober leaves
}

func newAuthGate(clock Clock, log *zap.Logger, first, max time.Duration) *AuthGate {
	return &AuthGate{clock: clock, log: log, first: first, max: max, changed: make(chan struct{})}
}

func (g *AuthGate) signalLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// fail records that GitHub refused the credentials; probe asks it again.
func (g *AuthGate) fail(err *AuthError, probe func(ctx context.Context) error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.log.Error("GitHub refuses the App's credentials: events are held, not lost, until it accepts them; "+authAdvice,
			zap.Int("status", err.Status), zap.String("request", err.What), zap.Error(err.Err))
		g.wait = g.first
	}
	g.err, g.probe = err, probe
	g.signalLocked()
}

// ok records that GitHub accepted the credentials.
func (g *AuthGate) ok() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		return
	}
	g.log.Info("GitHub accepts the App's credentials again: handling events")
	g.err, g.probe = nil, nil
	g.signalLocked()
}

// Status is nil while GitHub accepts the credentials, else why not and what to check.
func (g *AuthGate) Status() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		return nil
	}
	return fmt.Errorf("%w; %s", g.err, authAdvice)
}

// Wait returns once GitHub accepts the credentials (at once when nothing was refused), or
// with ctx's error.
func (g *AuthGate) Wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		if g.err == nil {
			g.mu.Unlock()
			return nil
		}
		changed := g.changed
		prober := !g.probing
		g.probing = g.probing || prober
		wait, probe := g.wait, g.probe
		g.mu.Unlock()
		if !prober {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := g.clock.Sleep(ctx, wait); err == nil {
			if probe == nil {
				g.ok()
			} else {
				g.probed(probe(ctx))
			}
		}
		g.mu.Lock()
		g.probing = false
		g.signalLocked()
		g.mu.Unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// probed learns from a probe: accepted (any answer of GitHub's but a 401), or still refused or
// unanswered (the next probe waits longer).
func (g *AuthGate) probed(err error) {
	if status := statusOf(err); err == nil || !IsAuthError(err) && status != 0 && status != http.StatusUnauthorized {
		g.ok()
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.wait = min(2*g.wait, g.max)
	g.log.Warn("GitHub still refuses the App's credentials", zap.Duration("next_try", g.wait), zap.Error(err))
}

// Guard wraps the worker's handler: it waits while GitHub refuses the credentials, and
// handles the event again once they are accepted when its handling ran into the refusal. The
// message is held meanwhile (the consumer keeps it alive), so nothing is dead-lettered or lost.
func (g *AuthGate) Guard(h queue.Handler) queue.Handler {
	return func(ctx context.Context, m queue.Message) error {
		for {
			if err := g.Wait(ctx); err != nil {
				return err
			}
			err := h(ctx, m)
			var ae *AuthError
			if !errors.As(err, &ae) {
				return err
			}
			g.mu.Lock()
			healthy := g.err == nil
			g.mu.Unlock()
			if healthy {
				// Refused by something that did not say so to the gate: wait a little, then retry.
				g.fail(ae, nil)
			}
		}
	}
}
