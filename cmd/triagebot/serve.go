package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/alecthomas/kong"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/internal/ops"
	"github.com/triagebot/triagebot/internal/statuspage"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// serveCmd, receiveCmd and workCmd are the long-running roles; each embeds the settings it reads.
type serveCmd struct{ settings }

type receiveCmd struct {
	serverSettings
	receiverSettings
	queueSettings
	logSettings
}

type workCmd struct {
	serverSettings
	githubSettings
	queueSettings
	workerSettings
	logSettings
}

const roleDetail = "Every flag can also be set with its environment variable; the flag wins."

func (c *serveCmd) Help() string {
	return "Runs the webhook receiver and the workers in one process. With no TRIAGEBOT_NATS_URL it starts an embedded NATS JetStream server on TRIAGEBOT_DATA_DIR. " + roleDetail
}

func (c *receiveCmd) Help() string {
	return "Verifies deliveries and stores them in JetStream, for deployments that scale the roles apart. " + roleDetail
}

func (c *workCmd) Help() string {
	return "Takes stored events, applies the rules, acts on GitHub, for deployments that scale the roles apart. " + roleDetail
}

func (c *serveCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	s := c.settings
	return runRole(ctx, kctx, "serve", &s, o, s.groups()...)
}

func (c *receiveCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	s := settings{serverSettings: c.serverSettings, receiverSettings: c.receiverSettings, queueSettings: c.queueSettings, logSettings: c.logSettings}
	return runRole(ctx, kctx, "receive", &s, o, &s.serverSettings, &s.receiverSettings, &s.queueSettings, &s.logSettings)
}

func (c *workCmd) Run(ctx context.Context, kctx *kong.Context, o streams) error {
	s := settings{serverSettings: c.serverSettings, githubSettings: c.githubSettings, queueSettings: c.queueSettings, workerSettings: c.workerSettings, logSettings: c.logSettings}
	return runRole(ctx, kctx, "work", &s, o, &s.serverSettings, &s.githubSettings, &s.queueSettings, &s.workerSettings, &s.logSettings)
}

// runRole checks the role's settings, then runs it until ctx ends.
func runRole(ctx context.Context, kctx *kong.Context, role string, s *settings, o streams, groups ...checked) error {
	if err := checkSettings(kctx, groups...); err != nil {
		return err
	}
	return runProcess(ctx, role, *s, o.stdout, o.stderr)
}

func runProcess(ctx context.Context, role string, s settings, stdout, stderr io.Writer) error {
	log, err := newLogger(s, stderr)
	if err != nil {
		return withExit(2, err)
	}
	defer func() { _ = log.Sync() }()
	a, err := start(ctx, role, s, log, startOptions{})
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down: finishing the events in flight")
	if err := a.shutdown(); err != nil {
		log.Error("shutdown", zap.Error(err))
		return withExit(1, errSilent)
	}
	log.Info("stopped")
	return nil
}

func newLogger(s settings, w io.Writer) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(s.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("TRIAGEBOT_LOG_LEVEL: %w", err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	enc.EncodeDuration = zapcore.StringDurationEncoder // "delay":"1.5s", not 1.5
	var encoder zapcore.Encoder
	if s.LogFormat == "console" {
		encoder = zapcore.NewConsoleEncoder(enc)
	} else {
		encoder = zapcore.NewJSONEncoder(enc)
	}
	return zap.New(zapcore.NewCore(encoder, zapcore.Lock(zapcore.AddSync(w)), level)), nil
}

// startOptions let tests replace or tune the GitHub side.
type startOptions struct {
	executor   handlers.Executor
	ghapp      []ghapp.Option
	transport  http.RoundTripper
	backoff    func(attempt int) time.Duration // retry delay of transient failures (default queue.Backoff)
	sweepEvery time.Duration                   // untriaged sweep interval (default handlers.DefaultSweepEvery)
	// reconciler interval (default the setting; negative: off) and pace between redeliveries
	reconcileEvery, reconcilePace time.Duration
	// timers: the clock of the timers and of their checks (lifecycle, untriaged), and how long
	// a timer is held back at most before its due time is looked at again (tests: a virtual
	// clock moved on by days, the timers checked against it within milliseconds).
	timers handlers.TimersConfig
}

// app is a running triagebot process: some of receiver, workers, embedded NATS.
type app struct {
	// audits bounds the retries of audit records written outside an event (notifications sent):
	// it ends when the shutdown's grace runs out, so they never hold the shutdown up.
	audits     context.Context
	stopAudits context.CancelFunc

	s        settings
	log      *zap.Logger
	embedded *queue.Embedded
	nc       *nats.Conn
	q        *queue.Queue
	receiver *handlers.Receiver
	smee     *handlers.Smee
	consumer *queue.Consumer
	srv      *http.Server
	addr     string
	served   chan error
	started  atomic.Bool            // everything is set up: the queue may be used
	phase    atomic.Pointer[string] // what start-up waits for, until started
	draining atomic.Bool
	github   *ghapp.App
	// The work role's notifications: the queue the workers enqueue on, its dispatcher (tests
	// call dispatcher.FlushNow to close digest windows), and the untriaged timers.
	notifier   *notify.Queue
	dispatcher *notify.Dispatcher
	timers     *handlers.Timers
	timersOpts handlers.TimersConfig // Now and MaxHold (startOptions.timers)
	sweeper    *handlers.Sweeper
	reconciler *handlers.Reconciler
	admin      adminServer // the status page
	ops        *ops.Metrics
	lastRun    atomic.Pointer[statuspage.ReconcilerRun] // the reconciler's, for the status page
	// stopBotLogin cancels the start's request for the bot's login and waits for it;
	// askingBotLogin is true until that request has its answer.
	stopBotLogin   func()
	askingBotLogin atomic.Bool
}

func start(ctx context.Context, role string, s settings, log *zap.Logger, opts startOptions) (_ *app, err error) {
	a := &app{s: s, log: log, served: make(chan error, 1), timersOpts: opts.timers}
	a.audits, a.stopAudits = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			a.stopNotifications(context.Background())
			a.closeQueue()
		}
	}()
	receive, work := role != "work", role != "receive"
	if receive && len(s.Secrets) == 0 {
		return nil, withExit(2, errors.New("TRIAGEBOT_WEBHOOK_SECRET: required (or TRIAGEBOT_WEBHOOK_SECRET_FILE)"))
	}
	// The address first: a port in use should fail before anything else starts.
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return nil, withExit(2, fmt.Errorf("TRIAGEBOT_LISTEN: %w", err))
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	adminLn, err := adminListener(s)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && adminLn != nil {
			adminLn.Close()
		}
	}()
	serverCfg, rawCfg, err := loadServerConfig(s.ConfigFile)
	if err != nil {
		return nil, withExit(2, fmt.Errorf("TRIAGEBOT_CONFIG: %w", err))
	}
	// Channels are defined here only, never in a repository.
	channels, err := notify.ParseServerConfig(rawCfg)
	if err != nil {
		return nil, withExit(2, fmt.Errorf("TRIAGEBOT_CONFIG: %w", err))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)
	om := ops.NewMetrics(reg, buildInfo(), time.Now)
	a.ops = om
	types := channelTypes(channels)
	chStats := ops.NewChannelStats(types, time.Now)
	for _, typ := range types {
		om.NotificationOutcome(typ, ops.NotificationSent, 0) // series from the start: rates and alerts work
		om.NotificationOutcome(typ, ops.NotificationFailed, 0)
	}
	web, _ := webURL(s.GitHubURL) // a base URL of neither form: links to github.com
	page := statuspage.Sources{Role: role, Partitions: s.Partitions, NotReady: a.notReady, WebURL: web}
	var gh *ghapp.App
	if work {
		if gh, err = newApp(s, log, opts.observed(s, om)); err != nil {
			return nil, err
		}
		if gh == nil && !s.DryRun && role != "serve" && opts.executor == nil {
			return nil, withExit(2, errors.New("TRIAGEBOT_APP_ID and TRIAGEBOT_PRIVATE_KEY_FILE: required unless TRIAGEBOT_DRY_RUN=true"))
		}
	}
	if gh != nil && !gh.BotLoginKnown() {
		// Every event needs the bot's login (GET /app): asked now, alongside NATS, the first
		// events do not wait a round trip for it, and a refused App key shows in /readyz before
		// any event comes. Not ready until GitHub has answered (or failed to): events taken
		// before would wait for that answer too.
		a.askingBotLogin.Store(true)
		a.stopBotLogin = handlers.Background(ctx, func(ctx context.Context) {
			defer a.askingBotLogin.Store(false)
			if _, err := gh.BotLogin(ctx); err != nil {
				log.Info("the bot's login is not known yet: asked again with the first event", zap.Error(err))
			}
		})
		defer func() {
			if err != nil {
				a.stopBotLogin()
			}
		}()
	}
	// Served from now on, so that /healthz answers and /readyz says why not while NATS is awaited.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if receive {
		mux.HandleFunc("/webhook", func(w http.ResponseWriter, r *http.Request) {
			if !a.started.Load() {
				http.Error(w, "starting: JetStream not ready yet", http.StatusServiceUnavailable)
				return
			}
			a.receiver.ServeHTTP(w, r)
		})
	}
	a.addr = ln.Addr().String()
	a.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // a 25 MiB body on a slow link
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	go func() { a.served <- a.srv.Serve(ln) }()
	defer func() {
		if err != nil {
			a.srv.Close()
			<-a.served
		}
	}()
	if err := a.connect(ctx); err != nil {
		return nil, err
	}
	if gh != nil {
		if err := shareLimits(ctx, gh, a.q, log); err != nil {
			return nil, err
		}
	}
	reg.MustRegister(ops.NewQueueCollector(a.q.JetStream(), a.q.Config().Partitions, log.Named("metrics")),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "triagebot_ready", Help: "1 when /readyz answers 200."}, func() float64 {
			if a.notReady(context.Background()) != "" {
				return 0
			}
			return 1
		}))

	if receive {
		a.receiver, err = handlers.NewReceiver(a.q, s.Secrets, log.Named("receiver"), handlers.WithObserver(m.delivery),
			handlers.WithMaxInflightBytes(s.MaxInflightBytes))
		if err != nil {
			return nil, withExit(2, fmt.Errorf("TRIAGEBOT_WEBHOOK_SECRET: %w", err))
		}
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "triagebot_webhook_inflight_bytes",
			Help: "Bytes of webhook request bodies held now (at most TRIAGEBOT_MAX_INFLIGHT_BYTES)."},
			func() float64 { return float64(a.receiver.InflightBytes()) }))
		if s.SmeeURL != "" {
			a.smee = &handlers.Smee{URL: s.SmeeURL, Handler: a.receiver, Logger: log.Named("smee")}
			defer func() {
				if err == nil {
					a.smee.Start(ctx)
				}
			}()
		}
	}
	// The queue is set up and the receiver stores deliveries: from now on /webhook takes them
	// (the reconciler below may have GitHub redeliver at once) and /readyz asks JetStream.
	a.started.Store(true)
	if work {
		wc := handlers.WorkerConfig{
			Config: handlers.StaticConfig(serverCfg.Defaults),
			Store:  a.q,
			Logger: log.Named("worker"),
		}
		dry := handlers.DryRunExecutor{}
		var backfiller *handlers.Backfiller
		switch {
		case opts.executor != nil:
			wc.Executor = opts.executor
		case gh == nil:
			wc.Executor = dry
			log.Info("dry run: no GitHub App credentials (TRIAGEBOT_APP_ID, TRIAGEBOT_PRIVATE_KEY_FILE), so actions are logged, not written to GitHub")
		case s.DryRun:
			wc.Executor = dry
			log.Info("dry run (TRIAGEBOT_DRY_RUN): GitHub is read, actions are decided and recorded, nothing is written")
		}
		if gh != nil {
			side, err := newGitHubSide(gh, a.q, serverCfg.Defaults, log)
			if err != nil {
				return nil, err
			}
			if wc.Executor == nil {
				wc.Executor = side.exec
			}
			wc.Config, wc.Lookup, wc.BotLoginFunc = countedConfig{loader: side.config, om: om}, side.lookups.For, gh.BotLogin
			wc.Grants = gh
			if !s.DryRun {
				wc.Installer, wc.ConfigWatcher, wc.Units, wc.Repositories = side, side, a.q, installationRepos{app: gh}
				backfiller = newBackfiller(side, a.q, log)
				wc.Backfill, wc.LifecycleWalk = backfiller.Backfill, backfiller.LifecycleWalk
			}
			a.github = gh
			page.GitHub, page.ConfigKV = om.GitHub, a.q.ConfigBucket()
		}
		var commenter notify.Commenter = logCommenter{log: log.Named("notify")}
		var issues handlers.IssueReader
		if gh != nil && !s.DryRun {
			commenter = githubCommenter{exec: a.githubExec(gh, log), store: a.q, app: gh}
			issues = issueReader{app: gh}
		}
		if err := a.startNotifications(ctx, channels, commenter, notify.WithObserver(notificationObserver(a.audits, om, chStats, a.q, log.Named("notify")))); err != nil {
			return nil, err
		}
		wc.Notifier, wc.Untriaged = a.notifier, a.timers
		if backfiller != nil {
			backfiller.Timers = a.timers
		}
		wc.Forgetter = forgetter{q: a.q, log: log.Named("worker")}
		page.Channels, page.Handled = chStats, ops.NewPerMinute(time.Now)
		w, err := handlers.NewWorker(wc)
		if err != nil {
			return nil, err
		}
		checker := &handlers.UntriagedChecker{Config: wc.Config, Store: a.q, Notifier: a.notifier, Issues: issues, Logger: log.Named("untriaged"), Now: a.timers.Now}
		lc := lifecycleChecker(wc, a.q, issues, log)
		lc.Now = a.timers.Now
		a.timers.Register(handlers.LifecycleKind, lc.Check)
		if err := a.timers.Start(checker.Check); err != nil {
			return nil, err
		}
		if gh != nil && !s.DryRun {
			a.sweeper = &handlers.Sweeper{Source: untriagedSource{app: gh}, Config: wc.Config, Store: a.q, Notifier: a.notifier,
				Logger: log.Named("sweep"), Every: cmp.Or(opts.sweepEvery, s.UntriagedSweep)}
			a.sweeper.Start()
		}
		a.startReconciler(gh, reg, opts)
		observe := func(o queue.Outcome) {
			m.event(o)
			if o.Result == "acked" {
				om.EventHandled(o.Message.Stored)
				page.Handled.Add()
			}
		}
		handle := w.Handle
		if gh != nil {
			// While GitHub refuses the App's credentials, events wait (held), not fail.
			handle = gh.AuthGate().Guard(handle)
		}
		a.consumer, err = a.q.Consume(ctx, handle, queue.ConsumeOptions{Logger: log.Named("queue"), Observe: observe, Backoff: opts.backoff,
			// The embedded server's data directory is locked to this process: it is the only
			// consumer, and takes over what a killed predecessor held at once.
			MaxInFlight: s.MaxInFlight, Takeover: s.NATSURL == ""})
		if err != nil {
			return nil, err
		}
	}
	page.Queue, page.Conn = a.q, a.nc
	if a.reconciler != nil {
		page.Reconciler = a.lastReconcile
	}
	if err := a.admin.start(adminLn, page, s.AdminToken, log.Named("admin")); err != nil {
		return nil, err
	}
	log.Info("listening", zap.String("role", role), zap.String("addr", a.addr), zap.Int("partitions", a.q.Config().Partitions))
	return a, nil
}

// loadServerConfig reads TRIAGEBOT_CONFIG: the defaults every repository starts from, and the
// notification channels.
func loadServerConfig(path string) (rules.ServerConfig, []byte, error) {
	if path == "" {
		return rules.ServerConfig{Defaults: rules.DefaultConfig()}, nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return rules.ServerConfig{}, nil, err
	}
	sc, err := rules.ParseServerConfig(data)
	return sc, data, err
}

// connect starts the embedded server or connects to the external one, and sets up the queue.
func (a *app) connect(ctx context.Context) error {
	s := a.s
	var err error
	if s.NATSURL == "" {
		a.embedded, err = queue.StartEmbedded(queue.EmbeddedConfig{Dir: s.DataDir, MaxStore: s.StoreMaxBytes, Logger: a.log})
		if errors.Is(err, queue.ErrDataDirInUse) {
			return withExit(2, fmt.Errorf("TRIAGEBOT_DATA_DIR: %s is in use by another triagebot process; stop it first (one data directory serves one process)", s.DataDir))
		}
		if err != nil {
			return withExit(2, fmt.Errorf("TRIAGEBOT_DATA_DIR: %w", err))
		}
		a.nc, err = a.embedded.Connect()
		if err != nil {
			return err
		}
		a.log.Info("embedded NATS JetStream started", zap.String("data_dir", s.DataDir))
	} else {
		nopts := []nats.Option{
			nats.Name("triagebot"),
			nats.MaxReconnects(-1),
			nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
				if nc.IsClosed() {
					return // closed by this process (shutdown), not lost
				}
				a.log.Warn("NATS disconnected", zap.Error(err))
			}),
			nats.ReconnectHandler(func(nc *nats.Conn) { a.log.Info("NATS reconnected", zap.String("url", nc.ConnectedUrlRedacted())) }),
		}
		if s.NATSCreds != "" {
			nopts = append(nopts, nats.UserCredentials(s.NATSCreds))
		}
		if s.NATSCA != "" || s.NATSCert != "" {
			tc, err := natsTLS(s)
			if err != nil {
				return withExit(2, err)
			}
			nopts = append(nopts, nats.Secure(tc))
		}
		if a.nc, err = a.awaitNATS(ctx, nopts); err != nil {
			return err
		}
		if a.nc.MaxPayload() < queue.MaxBody+64<<10 {
			a.log.Warn("the NATS server's max_payload is below GitHub's 25 MiB: larger deliveries will be answered 413",
				zap.Int64("max_payload", a.nc.MaxPayload()))
		}
	}
	js, err := queue.JetStream(a.nc)
	if err != nil {
		return err
	}
	qcfg := queue.Config{
		Partitions:  s.Partitions,
		DedupWindow: s.DedupWindow,
		Replicas:    s.Replicas,
		MaxAttempts: s.MaxAttempts,
		AckWait:     s.AckWait,
	}
	// A cluster that is still forming answers "JetStream temporarily unavailable": wait for it
	// as for the connection.
	return a.retryStart(ctx, "JetStream", func() error {
		setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		a.q, err = queue.Setup(setupCtx, js, qcfg)
		return err
	})
}

func natsTLS(s settings) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.NATSCA != "" {
		pem, err := os.ReadFile(s.NATSCA)
		if err != nil {
			return nil, fmt.Errorf("TRIAGEBOT_NATS_CA: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TRIAGEBOT_NATS_CA: %s holds no PEM certificate", s.NATSCA)
		}
	}
	if s.NATSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.NATSCert, s.NATSKey)
		if err != nil {
			return nil, fmt.Errorf("TRIAGEBOT_NATS_CERT: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (a *app) readyz(w http.ResponseWriter, r *http.Request) {
	if why := a.notReady(r.Context()); why != "" {
		http.Error(w, why, http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// notReady says why the process is not ready; empty when it is.
func (a *app) notReady(ctx context.Context) string {
	if !a.started.Load() {
		if p := a.phase.Load(); p != nil {
			return "starting: " + *p
		}
		return "starting"
	}
	if a.draining.Load() {
		return "shutting down"
	}
	if a.askingBotLogin.Load() {
		return "starting: asking GitHub for the App's login (GET /app)"
	}
	if err := a.q.Ready(ctx); err != nil {
		return "JetStream does not answer"
	}
	if a.github != nil {
		if err := a.github.AuthGate().Status(); err != nil {
			return err.Error()
		}
	}
	return ""
}

// shutdown refuses new deliveries, lets the events in flight finish, then drains and stops.
func (a *app) shutdown() error {
	a.draining.Store(true)
	if a.smee != nil {
		a.smee.Stop() // first: a delivery from the channel answered 503 would be lost
	}
	if a.receiver != nil {
		a.receiver.Drain()
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.s.ShutdownTimeout-time.Second)
	defer cancel()
	if a.stopAudits != nil {
		defer a.stopAudits()
		defer context.AfterFunc(ctx, a.stopAudits)()
	}
	var errs []error
	// Notifications first: what a digest holds goes back to the queue for the next process.
	a.stopNotifications(ctx)
	if a.consumer != nil {
		if err := a.consumer.Stop(ctx); err != nil {
			// Not a failure: an interrupted event was not acknowledged and is handled again.
			a.log.Warn("events still in flight at the shutdown timeout were interrupted; they will be retried", zap.Error(err))
		}
	}
	httpCtx, cancelHTTP := context.WithTimeout(context.Background(), time.Second)
	defer cancelHTTP()
	if err := a.srv.Shutdown(httpCtx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if err := <-a.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, err)
	}
	errs = append(errs, a.admin.stop(httpCtx))
	a.closeQueue()
	if a.stopBotLogin != nil {
		a.stopBotLogin()
	}
	if a.github != nil {
		a.github.Close()
	}
	return errors.Join(errs...)
}

func (a *app) closeQueue() {
	if a.nc != nil {
		closed := make(chan struct{})
		a.nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
		if err := a.nc.Drain(); err == nil {
			select {
			case <-closed:
			case <-time.After(time.Second):
				a.nc.Close()
			}
		} else {
			a.nc.Close()
		}
		a.nc = nil
	}
	if a.embedded != nil {
		a.embedded.Shutdown()
		a.embedded = nil
	}
}

// metrics are the Prometheus series of /metrics.
type metrics struct {
	deliveries *prometheus.CounterVec
	events     *prometheus.CounterVec
	duration   *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triagebot_webhook_deliveries_total",
			Help: "Webhook deliveries answered, by event and HTTP status.",
		}, []string{"event", "status"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triagebot_events_handled_total",
			Help: "Event deliveries handled by the workers, by event and result (acked, retry, rate_limited, dead_lettered, interrupted).",
		}, []string{"event", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "triagebot_event_duration_seconds",
			Help:    "Time to handle one event delivery.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"event"}),
	}
	reg.MustRegister(m.deliveries, m.events, m.duration)
	return m
}

func (m *metrics) delivery(event string, status int) {
	m.deliveries.WithLabelValues(event, strconv.Itoa(status)).Inc()
}

func (m *metrics) event(o queue.Outcome) {
	// The duration first: whoever sees the count sees the duration too.
	m.duration.WithLabelValues(o.Message.Event).Observe(o.Duration.Seconds())
	m.events.WithLabelValues(o.Message.Event, o.Result).Inc()
}

// githubExec is the executor of the github channel's comments (a separate Executor over the
// same App: it shares the installation clients and the write pacing).
func (a *app) githubExec(gh *ghapp.App, log *zap.Logger) *ghapp.Executor {
	return ghapp.NewExecutor(gh, log.Named("notify"))
}

// startNotifications sets up the notification queue and the untriaged timers on the same
// JetStream, and starts the dispatcher.
func (a *app) startNotifications(ctx context.Context, channels map[string]notify.ChannelConfig, commenter notify.Commenter, opts ...notify.Option) error {
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	js := a.q.JetStream()
	var err error
	if a.notifier, err = notify.Setup(setupCtx, js, notify.Config{Channels: channels, Replicas: a.s.Replicas}); err != nil {
		return err
	}
	tc := a.timersOpts
	tc.Replicas, tc.DedupWindow, tc.Logger = a.s.Replicas, a.s.DedupWindow, a.log.Named("timers")
	if a.timers, err = handlers.SetupTimers(setupCtx, js, tc); err != nil {
		return err
	}
	if a.dispatcher, err = notify.NewDispatcher(a.notifier, append([]notify.Option{notify.WithLogger(a.log.Named("notify")), notify.WithCommenter(commenter)}, opts...)...); err != nil {
		return withExit(2, fmt.Errorf("TRIAGEBOT_CONFIG: %w", err))
	}
	if err := a.dispatcher.Start(ctx); err != nil {
		return err
	}
	a.log.Info("notification channels", zap.Int("channels", len(channels)))
	return nil
}

// stopNotifications stops the dispatcher (held digests go back to the queue), the timers and
// the sweep.
func (a *app) stopNotifications(ctx context.Context) {
	a.stopReconciler()
	if a.sweeper != nil {
		a.sweeper.Stop()
		a.sweeper = nil
	}
	if a.dispatcher != nil {
		if err := a.dispatcher.Stop(ctx); err != nil {
			a.log.Warn("notifications being sent at the shutdown timeout were interrupted; they will be retried", zap.Error(err))
		}
		a.dispatcher = nil
	}
	if a.timers != nil {
		a.timers.Stop()
		a.timers = nil
	}
}
