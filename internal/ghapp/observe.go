package ghapp

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// LimitEvent is one rate-limit wait GitHub asked an installation for (0: the App's own client).
type LimitEvent struct {
	InstallationID int64
	Kind           string // KindPrimary or KindSecondary
	Until          time.Time
}

// WithLimitObserver is told of every rate-limit wait as it begins (metrics, the status page).
// It is called without locks held and must not block.
func WithLimitObserver(f func(LimitEvent)) Option {
	return func(a *App) error {
		if f == nil {
			return errors.New("nil limit observer")
		}
		a.limits.onLimit = f
		return nil
	}
}

type installationKey struct{}

// InstallationID is the installation a request to GitHub is made for, for the base transport
// (Config.Transport) to attribute requests and rate-limit headers; false for the App's own
// (JWT) requests.
func InstallationID(ctx context.Context) (int64, bool) {
	id, ok := ctx.Value(installationKey{}).(int64)
	return id, ok
}

// tagInstallation marks the requests of one installation (its token requests too) with its id.
type tagInstallation struct {
	id   int64
	next http.RoundTripper
}

func (t tagInstallation) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(req.WithContext(context.WithValue(req.Context(), installationKey{}, t.id)))
}
