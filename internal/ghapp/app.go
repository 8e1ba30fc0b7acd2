package ghapp

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/lru"
)

// DefaultBaseURL is github.com's REST API.
const DefaultBaseURL = "https://api.github.com/"

// Config is what an App needs. AppID and PrivateKeyPEM are required.
type Config struct {
	AppID         int64
	PrivateKeyPEM []byte // the App's PEM private key (TRIAGEBOT_PRIVATE_KEY_FILE's content)
	// BaseURL is the REST API root (TRIAGEBOT_GITHUB_URL): https://api.github.com/ (the
	// default) or, for GitHub Enterprise Server, https://HOST/api/v3/.
	BaseURL string
	Logger  *zap.Logger // default: no logging
	// Transport is the one base transport every client shares (connection reuse); default
	// NewTransport(), which a wrapper given here should wrap too. Every answer's body
	// is read to its end when closed, so connections are reused whatever the transport.
	Transport http.RoundTripper
}

// Option changes an App's defaults. Options validate their values.
type Option func(*App) error

// WithClock replaces the clock of the rate-limit waits and caches (tests).
func WithClock(c Clock) Option {
	return func(a *App) error {
		if c == nil {
			return errors.New("nil clock")
		}
		a.limits.clock = c
		return nil
	}
}

// WithWaitThreshold sets the longest rate-limit wait that happens in-process (default 10 s);
// longer ones return a *RetryAfterError.
func WithWaitThreshold(d time.Duration) Option {
	return func(a *App) error {
		if d < 0 {
			return fmt.Errorf("negative wait threshold %s", d)
		}
		a.limits.threshold = d
		return nil
	}
}

// WithMaxInFlight caps the concurrent requests of one installation (default 8).
func WithMaxInFlight(n int) Option {
	return func(a *App) error {
		if n < 1 {
			return fmt.Errorf("max in flight %d, want at least 1", n)
		}
		a.limits.maxInFlight = n
		return nil
	}
}

// WithWriteRate paces mutations per installation: perMinute on average, burst back to back
// (default 75 a minute, burst 5: never more than GitHub's 80 content-creating requests in a
// minute). Tests against an emulator may raise it.
func WithWriteRate(perMinute float64, burst int) Option {
	return func(a *App) error {
		if perMinute <= 0 || burst < 1 {
			return fmt.Errorf("write rate %v/min burst %d, want both positive", perMinute, burst)
		}
		a.limits.writesPerMinute, a.limits.writeBurst = perMinute, burst
		return nil
	}
}

// WithNotFoundBackoff sets the waits before retrying a 404 that may be GitHub's eventual
// consistency (default 500 ms then 1 s; none disables the retries).
func WithNotFoundBackoff(waits ...time.Duration) Option {
	return func(a *App) error {
		for _, w := range waits {
			if w < 0 {
				return fmt.Errorf("negative backoff %s", w)
			}
		}
		a.limits.notFoundBackoff = append([]time.Duration(nil), waits...)
		return nil
	}
}

// WithAuthBackoff sets the waits between asking GitHub again while it refuses the App's
// credentials: first, doubling up to max (default 1 s up to 1 min).
func WithAuthBackoff(first, max time.Duration) Option {
	return func(a *App) error {
		if first <= 0 || max < first {
			return fmt.Errorf("auth backoff %s up to %s: want 0 < first <= max", first, max)
		}
		a.authFirst, a.authMax = first, max
		return nil
	}
}

// WithCacheSize bounds the number of installation clients kept (default 1000).
func WithCacheSize(n int) Option {
	return func(a *App) error {
		if n < 1 {
			return fmt.Errorf("cache size %d, want at least 1", n)
		}
		a.cacheSize = n
		return nil
	}
}

// WithBotLogin sets the App's bot user ("slug[bot]") so BotLogin never asks GitHub.
func WithBotLogin(login string) Option {
	return func(a *App) error {
		if login == "" {
			return errors.New("empty bot login")
		}
		a.botLogin = login
		return nil
	}
}

// App is a GitHub App: its own JWT-authenticated client and one cached client per installation.
type App struct {
	appID     int64
	key       *rsa.PrivateKey
	jwt       *reusedJWT // signs the App's JWTs for every AppsTransport
	baseURL   *url.URL
	apiRoot   string // baseURL without its trailing slash, as ghinstallation wants it
	base      http.RoundTripper
	log       *zap.Logger
	limits    limitSettings
	cacheSize int

	appClient     *github.Client
	installations *lru.Cache[int64, installClient]

	botMu    sync.Mutex
	botLogin string

	auth               *AuthGate
	authFirst, authMax time.Duration
}

// New checks cfg, parses the private key and returns an App.
func New(cfg Config, opts ...Option) (*App, error) {
	if cfg.AppID <= 0 {
		return nil, errors.New("ghapp: App ID is required")
	}
	if len(cfg.PrivateKeyPEM) == 0 {
		return nil, errors.New("ghapp: private key is required")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(cfg.PrivateKeyPEM)
	if err != nil {
		// The parser's message never contains key material.
		return nil, fmt.Errorf("ghapp: private key: %w", err)
	}
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	a := &App{
		appID:   cfg.AppID,
		key:     key,
		baseURL: base,
		apiRoot: strings.TrimSuffix(base.String(), "/"),
		base:    cfg.Transport,
		log:     cfg.Logger,
		limits: limitSettings{
			threshold:       10 * time.Second,
			maxInFlight:     8,
			writesPerMinute: 75,
			writeBurst:      5,
			notFoundBackoff: []time.Duration{500 * time.Millisecond, time.Second},
			clock:           realClock{},
		},
		cacheSize: 1000,
		authFirst: time.Second,
		authMax:   time.Minute,
	}
	if a.log == nil {
		a.log = zap.NewNop()
	}
	if a.base == nil {
		a.base = NewTransport()
	}
	a.base = drainBody{next: a.base}
	for _, opt := range opts {
		if err := opt(a); err != nil {
			return nil, fmt.Errorf("ghapp: %w", err)
		}
	}
	a.limits.log = a.log
	a.auth = newAuthGate(a.limits.clock, a.log, a.authFirst, a.authMax)
	a.installations = lru.New[int64, installClient](a.cacheSize)
	a.jwt = newReusedJWT(a.key)
	atr := a.appsTransport(a.base)
	a.appClient = a.client(&rateLimitTransport{next: atr, lim: newLimiter(&a.limits, 0)})
	return a, nil
}

// appsTransport authenticates as the App (a JWT, signed by the App's one reusedJWT) over rt.
func (a *App) appsTransport(rt http.RoundTripper) *ghinstallation.AppsTransport {
	atr, err := ghinstallation.NewAppsTransportWithOptions(rt, a.appID, ghinstallation.WithSigner(a.jwt))
	if err != nil {
		panic(err) // only without a signer
	}
	atr.BaseURL = a.apiRoot
	return atr
}

// parseBaseURL accepts https://api.github.com/ and https://HOST/api/v3/ (with or without the
// trailing slash, which go-github needs).
func parseBaseURL(s string) (*url.URL, error) {
	if s == "" {
		s = DefaultBaseURL
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ghapp: GitHub URL %q: want http(s)://host/ or https://HOST/api/v3/", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func (a *App) client(rt http.RoundTripper) *github.Client {
	c := github.NewClient(&http.Client{Transport: rt})
	c.BaseURL = a.baseURL
	c.UploadURL = a.baseURL
	return c
}

// AppClient is the client authenticated as the App itself (JWT), for /app/... endpoints such
// as /app/hook/deliveries.
func (a *App) AppClient() *github.Client { return a.appClient }

// Installation is the client of one installation: its token is fetched and refreshed (a minute
// before expiry) by ghinstallation, and replaced when GitHub refuses it before then (401: clock
// skew, revocation); its requests go through the installation's rate-limit state. Clients are cached, the least recently used forgotten past the bound.
func (a *App) Installation(id int64) *github.Client { return a.installation(id).gh }

func (a *App) installation(id int64) installClient {
	return a.installations.GetOrAdd(id, func() installClient {
		grant := &grant{}
		tokens := func() http.RoundTripper {
			// An AppsTransport per installation: ghinstallation writes to it on each token refresh.
			atr := a.appsTransport(tokenAnswers{next: a.base, grant: grant})
			itr := ghinstallation.NewFromAppsTransport(atr, id)
			itr.BaseURL = a.apiRoot
			return &tagInstallation{id: id, next: itr}
		}
		probe := func(ctx context.Context) error {
			_, _, err := a.appClient.Apps.CreateInstallationToken(ctx, id, nil)
			return err
		}
		onAuth := func(ae *AuthError) { a.auth.fail(ae, probe) }
		rt := &rateLimitTransport{next: tokens(), renew: tokens, lim: newLimiter(&a.limits, id), onAuth: onAuth}
		return installClient{gh: a.client(rt), rt: rt, grant: grant}
	})
}

// installClient is an installation's client, its transport (whose token RenewToken drops) and
// the permissions of its token.
type installClient struct {
	gh    *github.Client
	rt    *rateLimitTransport
	grant *grant
}

// BotLoginKnown reports whether BotLogin answers without asking GitHub (given with
// WithBotLogin, or asked before). It waits while BotLogin is asking.
func (a *App) BotLoginKnown() bool {
	a.botMu.Lock()
	defer a.botMu.Unlock()
	return a.botLogin != ""
}

// BotLogin is the App's bot user, "<slug>[bot]", asked of GitHub (GET /app) once and cached.
func (a *App) BotLogin(ctx context.Context) (string, error) {
	a.botMu.Lock()
	defer a.botMu.Unlock()
	if a.botLogin != "" {
		return a.botLogin, nil
	}
	app, _, err := a.appClient.Apps.Get(ctx, "")
	if statusOf(err) == http.StatusUnauthorized {
		ae := &AuthError{Status: http.StatusUnauthorized, What: "GET /app", Err: err}
		a.auth.fail(ae, func(ctx context.Context) error {
			_, _, err := a.appClient.Apps.Get(ctx, "")
			return err
		})
		return "", fmt.Errorf("get the App: %w", ae)
	}
	if err != nil {
		return "", fmt.Errorf("get the App: %w", Classify(err))
	}
	if app.GetSlug() == "" {
		return "", &PermanentError{Err: errors.New("get the App: no slug in the answer")}
	}
	a.botLogin = app.GetSlug() + "[bot]"
	return a.botLogin, nil
}

// Close closes the idle connections of the shared transport, and stops the shared limits' watch
// (at shutdown).
func (a *App) Close() {
	if a.limits.shared != nil {
		a.limits.shared.Stop()
	}
	if c, ok := a.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// ShareLimits keeps the write pace and the waits GitHub asks for in JetStream, shared by every
// process of the deployment (see SharedLimits); without it each process keeps its own. Call it
// before the first request; Close stops s.
func (a *App) ShareLimits(s *SharedLimits) {
	a.limits.shared = s
}

// AuthGate is the App's "GitHub accepts our credentials" state: the worker's handler is wrapped
// in its Guard, and /readyz reads its Status.
func (a *App) AuthGate() *AuthGate { return a.auth }

// Clock is the App's clock (for the caches built on it).
func (a *App) Clock() Clock { return a.limits.clock }

// Logger is the App's logger.
func (a *App) Logger() *zap.Logger { return a.log }
