package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	"slices"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/internal/ops"
	"github.com/triagebot/triagebot/internal/statuspage"
	"github.com/triagebot/triagebot/rules"
)

func buildInfo() ops.BuildInfo {
	b := buildOf()
	return ops.BuildInfo{Version: b.Version, Commit: b.Commit}
}

// observed makes every GitHub request of the App counted and every rate-limit wait known to om.
func (o startOptions) observed(s settings, om *ops.Metrics) startOptions {
	base := o.transport
	if base == nil {
		base = ghapp.NewTransport()
	}
	o.transport = om.Transport(s.GitHubURL, base)
	o.ghapp = slices.Concat(o.ghapp, []ghapp.Option{ghapp.WithLimitObserver(func(e ghapp.LimitEvent) {
		om.LimitWait(e.InstallationID, e.Kind, e.Until)
	})})
	return o
}

// auditor appends to the audit trail (the queue).
type auditor interface {
	Audit(ctx context.Context, repoID int64, number int, record any) error
}

// notificationObserver counts the dispatcher's sends and failures by channel type, keeps each
// channel's last success and failure for the status page, and records each notification sent
// in the audit trail, retrying until audits ends.
func notificationObserver(audits context.Context, om *ops.Metrics, chs *ops.ChannelStats, store auditor, log *zap.Logger) func(notify.Outcome) {
	return func(o notify.Outcome) {
		typ := chs.Type(o.Channel)
		switch o.Result {
		case notify.ResultSent:
			om.NotificationOutcome(typ, ops.NotificationSent, len(o.IDs))
			chs.Record(o.Channel, len(o.IDs), nil)
			ctx, cancel := context.WithTimeout(audits, auditRetryFor)
			defer cancel()
			for _, n := range o.Sent {
				if err := auditRetrying(ctx, store, n.RepoID, n.Number, handlers.NotificationSentRecord(n, typ, time.Now())); err != nil {
					// Sent and recorded as sent in the notify bucket; only the trail misses it.
					log.Warn("audit record of a notification sent lost", zap.String("notification_id", n.ID), zap.Error(err))
				}
			}
		case notify.ResultRetry, notify.ResultRateLimited, notify.ResultDeadLettered:
			om.NotificationOutcome(typ, ops.NotificationFailed, len(o.IDs))
			err := o.Err
			if err == nil {
				err = errors.New(o.Result)
			}
			chs.Record(o.Channel, len(o.IDs), err)
		}
	}
}

// auditRetryFor is how long the record of a notification sent is tried: longer than a NATS
// leader election takes, so the trail does not lose it to one.
const auditRetryFor = 30 * time.Second

// auditRetrying stores an audit record, trying again with backoff until ctx ends. The record
// carries its dedup ID, so a write that was stored but whose answer was lost is not stored twice.
func auditRetrying(ctx context.Context, store auditor, repoID int64, number int, rec any) error {
	wait := 100 * time.Millisecond
	for {
		err := store.Audit(ctx, repoID, number, rec)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func channelTypes(channels map[string]notify.ChannelConfig) map[string]string {
	out := make(map[string]string, len(channels))
	for name, c := range channels {
		out[name] = c.Type
	}
	return out
}

// countedConfig counts the events whose repository configuration was broken or unreadable.
type countedConfig struct {
	loader *ghapp.ConfigLoader
	om     *ops.Metrics
}

func (c countedConfig) Config(ctx context.Context, t rules.Target) (rules.Config, error) {
	if t.Owner == "" || t.Name == "" || t.InstallationID == 0 {
		return c.loader.Config(ctx, t)
	}
	loaded, err := c.loader.LoadFor(ctx, t)
	switch {
	case err != nil:
		c.om.ConfigFailure(ops.ConfigUnreadable)
		return rules.Config{}, err
	case loaded.ParseErr != nil:
		c.om.ConfigFailure(ops.ConfigBroken)
	}
	return loaded.Config, nil
}

// adminSettings are the status page's settings.
func (g *serverSettings) checkAdmin(c *checker) {
	switch g.AdminListen {
	case "off", "":
		g.AdminListen = ""
	default:
		if _, _, err := net.SplitHostPort(g.AdminListen); err != nil {
			c.failf("TRIAGEBOT_ADMIN_LISTEN", "%q is not host:port or off", g.AdminListen)
		}
	}
	if g.AdminTokenFile == "" {
		return
	}
	if g.AdminToken != "" {
		c.failf("TRIAGEBOT_ADMIN_TOKEN", "set together with TRIAGEBOT_ADMIN_TOKEN_FILE: keep one")
		return
	}
	b, err := os.ReadFile(g.AdminTokenFile)
	if err != nil {
		c.failf("TRIAGEBOT_ADMIN_TOKEN_FILE", "cannot read %s: %w", g.AdminTokenFile, errors.Unwrap(err))
		return
	}
	if g.AdminToken = strings.TrimSpace(string(b)); g.AdminToken == "" {
		c.failf("TRIAGEBOT_ADMIN_TOKEN_FILE", "%s holds no token", g.AdminTokenFile)
	}
}

// adminListener opens the status page's address. Without a token, only a loopback address is
// allowed: the page shows repositories, issues and errors.
func adminListener(s settings) (net.Listener, error) {
	if s.AdminListen == "" {
		return nil, nil
	}
	host, _, _ := net.SplitHostPort(s.AdminListen)
	if s.AdminToken == "" {
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, withExit(2, fmt.Errorf("TRIAGEBOT_ADMIN_LISTEN: %s is not a loopback address: set TRIAGEBOT_ADMIN_TOKEN to expose the status page", s.AdminListen))
		}
	}
	ln, err := net.Listen("tcp", s.AdminListen)
	if err != nil {
		return nil, withExit(2, fmt.Errorf("TRIAGEBOT_ADMIN_LISTEN: %w", err))
	}
	return ln, nil
}

// adminServer serves the status page on its own listener.
type adminServer struct {
	srv    *http.Server
	addr   string
	served chan error
}

func (s *adminServer) start(ln net.Listener, src statuspage.Sources, token string, log *zap.Logger) error {
	if ln == nil {
		return nil
	}
	h, err := statuspage.New(src, statuspage.Options{Token: token, Logger: log})
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute, ErrorLog: zap.NewStdLog(log)}
	s.addr, s.served = ln.Addr().String(), make(chan error, 1)
	go func() { s.served <- s.srv.Serve(ln) }()
	log.Info("status page", zap.String("addr", s.addr), zap.Bool("token", token != ""))
	return nil
}

func (s *adminServer) stop(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	s.srv = nil
	return err
}

// awaitNATS connects to the external NATS server, retrying with backoff for TRIAGEBOT_NATS_WAIT
// while none answers, so that containers can start in any order. A refusal (credentials, TLS)
// is not waited out.
func (a *app) awaitNATS(ctx context.Context, opts []nats.Option) (*nats.Conn, error) {
	var nc *nats.Conn
	err := a.retryStart(ctx, "NATS at "+redactURL(a.s.NATSURL), func() error {
		var err error
		nc, err = nats.Connect(a.s.NATSURL, opts...)
		if err != nil && !errors.Is(err, nats.ErrNoServers) && !errors.Is(err, nats.ErrTimeout) {
			return refused{err}
		}
		return err
	})
	if err != nil {
		return nil, withExit(2, fmt.Errorf("TRIAGEBOT_NATS_URL: %w", err))
	}
	return nc, nil
}

// retryStart runs f until it succeeds, with backoff (250 ms doubling to 5 s), for at most
// TRIAGEBOT_NATS_WAIT; /readyz says what start-up waits for meanwhile.
func (a *app) retryStart(ctx context.Context, what string, f func() error) error {
	phase := "waiting for " + what
	a.phase.Store(&phase)
	deadline := time.Now().Add(a.s.NATSWait)
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f()
		var r refused
		switch {
		case err == nil:
			return nil
		case errors.As(err, &r):
			return r.err
		case time.Now().Add(wait).After(deadline):
			return fmt.Errorf("%s did not answer within %s (TRIAGEBOT_NATS_WAIT): %w", what, a.s.NATSWait, err)
		}
		a.log.Warn("start-up: "+phase+"; retrying", zap.String("addr", a.addr), zap.Int("attempt", attempt), zap.Duration("retry_in", wait), zap.Error(err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", phase, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// refused is an answer that waiting does not change.
type refused struct{ err error }

func (r refused) Error() string { return r.err.Error() }

// redactURL leaves credentials out of NATS URLs for logs.
func redactURL(v string) string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil {
			out = append(out, u.Redacted())
		}
	}
	return strings.Join(out, ",")
}

// reconciled records a reconciler run for /metrics and the status page.
func (a *app) reconciled(r handlers.ReconcileReport) {
	if a.ops != nil {
		a.ops.Redelivered(r.Redelivered)
	}
	a.lastRun.Store(&statuspage.ReconcilerRun{At: time.Now(), Failed: r.Failed, Redelivered: r.Redelivered,
		Err: map[bool]string{true: fmt.Sprintf("%d redeliveries refused by GitHub (asked again next run)", r.Errors)}[r.Errors > 0]})
}

// lastReconcile is the reconciler's last run, for the status page.
func (a *app) lastReconcile() (statuspage.ReconcilerRun, bool) {
	if r := a.lastRun.Load(); r != nil {
		return *r, true
	}
	return statuspage.ReconcilerRun{}, false
}
