package ghfake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Defaults that mirror github.com.
const (
	DefaultAppID     int64 = 1
	DefaultAppSlug         = "triagebot"
	DefaultTokenTTL        = time.Hour
	DefaultRateLimit       = 5000
	rateWindow             = time.Hour
)

// Server is the in-memory GitHub. All methods are safe for concurrent use.
type Server struct {
	// Set by options, read-only after New.
	prefix      string
	appID       int64
	appSlug     string
	pubKey      *rsa.PublicKey
	privPEM     []byte
	now         func() time.Time
	tokenTTL    time.Duration
	rateLimit   int
	hookClient  *http.Client
	routes      []*route
	log         *zap.Logger
	seedInstall []seedInstallation

	mu sync.Mutex
	// webhook target, settable later because receivers start after the fake.
	hookURL    string
	hookSecret string
	dropHooks  bool // DropWebhooks

	manifestApps []*RegisteredApp // registrations through the manifest flow (manifest.go)

	extraKeys    []*rsa.PublicKey // more App keys, see AddAppKey
	users        map[string]*user // by lower-case login
	repos        map[string]*repo // by lower-case full name
	installs     map[int64]*installation
	tokens       map[string]*instToken
	nextID       int64
	nextInstall  int64
	changed      chan struct{} // closed and replaced on every change, see Wait
	queue        []*delivery   // pending webhook deliveries, head is in flight
	deliveries   []*delivery   // every delivery attempt, oldest first
	nextDelivery int64
	wake         chan struct{}

	buckets    map[int64]*bucket // rate-limit buckets by installation (0: the App's JWT)
	retryUntil map[int64]time.Time
	faults     faultState
	requests   []Request
	violations []Violation
	inflight   map[int64]*[2]int // per installation: requests, writes being answered now
	peak       map[int64][2]int  // the highest of each

	connections atomic.Int64 // TCP connections accepted, see ConnState

	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
	ctx       context.Context
	cancel    context.CancelFunc
}

type seedInstallation struct {
	id      int64
	account string
	repos   []string
}

// Option configures a Server. Options validate their arguments; New panics on an invalid
// option because every caller is a test or the demo, where that is a programming error.
type Option func(*Server) error

// WithPrefix serves the REST API under a path prefix, e.g. "/api/v3/" as GitHub Enterprise
// Server does. The default is "/".
func WithPrefix(prefix string) Option {
	return func(s *Server) error {
		if !strings.HasPrefix(prefix, "/") {
			return fmt.Errorf("prefix %q must start with /", prefix)
		}
		if !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		s.prefix = prefix
		return nil
	}
}

// WithApp sets the App ID and its bot's slug (the bot user is "<slug>[bot]").
func WithApp(appID int64, slug string) Option {
	return func(s *Server) error {
		if appID <= 0 || slug == "" {
			return fmt.Errorf("app id %d and slug %q: both required", appID, slug)
		}
		s.appID, s.appSlug = appID, slug
		return nil
	}
}

// WithAppPublicKey makes the fake verify App JWTs against key instead of a key pair it
// generates itself. PrivateKeyPEM then returns nil.
func WithAppPublicKey(key *rsa.PublicKey) Option {
	return func(s *Server) error {
		if key == nil {
			return fmt.Errorf("nil public key")
		}
		s.pubKey, s.privPEM = key, nil
		return nil
	}
}

// WithAppPrivateKey makes the fake use the caller's App key pair instead of generating one;
// PrivateKeyPEM returns it in PEM (PKCS#1) form.
func WithAppPrivateKey(key *rsa.PrivateKey) Option {
	return func(s *Server) error {
		if key == nil {
			return fmt.Errorf("nil private key")
		}
		s.pubKey = &key.PublicKey
		s.privPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		return nil
	}
}

// WithWebhook sets where webhooks go and the secret that signs them (see also SetWebhook).
func WithWebhook(url, secret string) Option {
	return func(s *Server) error {
		s.hookURL, s.hookSecret = url, secret
		return nil
	}
}

// WithClock replaces time.Now, for token expiry, rate-limit resets and Retry-After windows.
func WithClock(now func() time.Time) Option {
	return func(s *Server) error {
		if now == nil {
			return fmt.Errorf("nil clock")
		}
		s.now = now
		return nil
	}
}

// WithTokenTTL sets how long installation tokens live (default one hour).
func WithTokenTTL(d time.Duration) Option {
	return func(s *Server) error {
		if d <= 0 {
			return fmt.Errorf("token ttl %v must be positive", d)
		}
		s.tokenTTL = d
		return nil
	}
}

// WithRateLimit sets the primary rate-limit budget per installation per hour (default 5000).
func WithRateLimit(limit int) Option {
	return func(s *Server) error {
		if limit <= 0 {
			return fmt.Errorf("rate limit %d must be positive", limit)
		}
		s.rateLimit = limit
		return nil
	}
}

// WithFaults injects faults from the start; see SetFaults.
func WithFaults(f Faults) Option {
	return func(s *Server) error { return s.setFaults(f) }
}

// WithLogger logs every request and delivery at debug level.
func WithLogger(l *zap.Logger) Option {
	return func(s *Server) error {
		if l == nil {
			return fmt.Errorf("nil logger")
		}
		s.log = l.Named("ghfake")
		return nil
	}
}

// WithHookClient sets the HTTP client that delivers webhooks.
func WithHookClient(c *http.Client) Option {
	return func(s *Server) error {
		if c == nil {
			return fmt.Errorf("nil hook client")
		}
		s.hookClient = c
		return nil
	}
}

// WithInstallation seeds an installation of the App on account with repositories (created
// with default branch "main" when missing), without sending any webhook.
func WithInstallation(id int64, account string, repos ...string) Option {
	return func(s *Server) error {
		if id <= 0 || account == "" {
			return fmt.Errorf("installation %d on %q: id and account required", id, account)
		}
		for _, r := range repos {
			if _, _, err := splitRepo(r); err != nil {
				return err
			}
		}
		s.seedInstall = append(s.seedInstall, seedInstallation{id: id, account: account, repos: repos})
		return nil
	}
}

// New returns a running fake; Close stops its webhook sender.
func New(opts ...Option) *Server {
	s := &Server{
		prefix:      "/",
		appID:       DefaultAppID,
		appSlug:     DefaultAppSlug,
		now:         time.Now,
		tokenTTL:    DefaultTokenTTL,
		rateLimit:   DefaultRateLimit,
		log:         zap.NewNop(),
		hookClient:  &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		users:       map[string]*user{},
		repos:       map[string]*repo{},
		installs:    map[int64]*installation{},
		tokens:      map[string]*instToken{},
		nextID:      1000,
		nextInstall: 100,
		changed:     make(chan struct{}),
		wake:        make(chan struct{}, 1),
		buckets:     map[int64]*bucket{},
		retryUntil:  map[int64]time.Time{},
		inflight:    map[int64]*[2]int{},
		peak:        map[int64][2]int{},
		stop:        make(chan struct{}),
	}
	s.faults.rng = mrand.New(mrand.NewPCG(1, 2))
	for _, o := range opts {
		if err := o(s); err != nil {
			panic("ghfake: " + err.Error())
		}
	}
	if s.pubKey == nil {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic("ghfake: generate app key: " + err.Error())
		}
		s.pubKey = &key.PublicKey
		s.privPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	}
	s.routes = s.buildRoutes()
	for _, si := range s.seedInstall {
		s.mu.Lock()
		in := s.ensureInstallation(si.id, si.account)
		for _, name := range si.repos {
			r := s.ensureRepo(name)
			r.installationID = in.id
			in.repos[r.id] = true
		}
		s.mu.Unlock()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.sendLoop()
	return s
}

// Close stops the webhook sender and waits for it; pending deliveries are dropped.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.cancel()
	})
	s.wg.Wait()
	s.hookClient.CloseIdleConnections()
}

// AppID is the App's ID, the issuer its JWTs must carry.
func (s *Server) AppID() int64 { return s.appID }

// PrivateKeyPEM is the App's PEM (PKCS#1) private key, nil under WithAppPublicKey.
func (s *Server) PrivateKeyPEM() []byte { return append([]byte(nil), s.privPEM...) }

// BotEnv writes the App's private key into dir and returns the settings that make a triagebot
// this fake's App: TRIAGEBOT_APP_ID, TRIAGEBOT_PRIVATE_KEY_FILE and TRIAGEBOT_GITHUB_URL
// (baseURL is where the fake is served, e.g. an httptest.Server's URL; the prefix is added).
func (s *Server) BotEnv(dir, baseURL string) (map[string]string, error) {
	key := filepath.Join(dir, "app-key.pem")
	if err := os.WriteFile(key, s.PrivateKeyPEM(), 0o600); err != nil {
		return nil, fmt.Errorf("ghfake: write the App's key: %w", err)
	}
	return map[string]string{
		"TRIAGEBOT_APP_ID":           strconv.FormatInt(s.appID, 10),
		"TRIAGEBOT_PRIVATE_KEY_FILE": key,
		"TRIAGEBOT_GITHUB_URL":       strings.TrimSuffix(baseURL, "/") + s.prefix,
	}, nil
}

// BotLogin is the App's bot user, "<slug>[bot]", the sender of the bot's own changes.
func (s *Server) BotLogin() string { return s.appSlug + "[bot]" }

// Prefix is the path prefix the REST API is served under.
func (s *Server) Prefix() string { return s.prefix }

// SetWebhook sets the webhook target URL and secret.
func (s *Server) SetWebhook(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookURL, s.hookSecret = url, secret
}

// DropWebhooks(true) makes the fake neither build nor record nor send the webhooks of what
// happens from then on, until DropWebhooks(false): for a load tool that sends its own
// deliveries, so that the fake's CPU (and its one lock) goes to answering the bot. Building a
// payload per write was 41 % of the load tool's CPU in its -ghfake run.
func (s *Server) DropWebhooks(drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropHooks = drop
}

// ForgetDeliveries drops the deliveries made (or failed) from the log GET /app/hook/deliveries
// lists, as if they were older than GitHub keeps them; queued ones stay. For a load tool that
// takes the payloads to send itself: the bot's reconciler would otherwise find them all failed
// and page through them and ask for their redelivery while being measured.
func (s *Server) ForgetDeliveries() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = slices.DeleteFunc(s.deliveries, func(d *delivery) bool { return d.done })
}

// signalLocked wakes everything waiting for a change. Callers hold s.mu.
func (s *Server) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait blocks until cond (called without any lock of the fake held, so it may use the
// query methods) returns true, re-evaluating it after every change of state or delivery.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("ghfake wait: %w", ctx.Err())
		case <-s.stop:
			return fmt.Errorf("ghfake wait: server closed")
		}
	}
}

// ConnState counts the connections the fake accepts: set it as the http.Server's ConnState
// (httptest.NewUnstartedServer(fake).Config.ConnState) before starting it.
func (s *Server) ConnState(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		s.connections.Add(1)
	}
}

// Connections is the number of connections accepted so far (see ConnState): a client that
// reuses its connections opens few, whatever the number of requests.
func (s *Server) Connections() int64 { return s.connections.Load() }
