package main

// Settings are flags and TRIAGEBOT_* environment variables (the flag wins), read by kong from
// the struct tags below. Each group is embedded by the commands that read it (serve.go,
// dlq.go, redeliver.go, setup.go, configinit.go), so a command's --help lists exactly its own
// settings, and settings (all groups) is what start() reads.
//
// To add a setting, add one field to the group of the commands that read it, e.g. in
// receiverSettings:
//
//	MaxInflightBytes int64 `env:"TRIAGEBOT_MAX_INFLIGHT_BYTES" default:"67108864" help:"Bytes of request bodies held at once."`
//
// (the flag is --max-inflight-bytes; name:"..." overrides it) and, if its value has limits, one
// line in that group's check method, which names the variable in the one-line error:
//
//	c.between("TRIAGEBOT_MAX_IN_FLIGHT", g.MaxInFlight, 1, 256)   // int
//	c.positive("TRIAGEBOT_RECONCILE_EVERY", g.ReconcileEvery)     // time.Duration
//	if g.MaxInflightBytes < 1<<20 { c.failf("TRIAGEBOT_MAX_INFLIGHT_BYTES", "%d is below 1 MiB", g.MaxInflightBytes) }
//
// Then add the variable to its group's list in help_test.go and to the README's settings table.
// Types kong decodes: string, bool (bare --flag or --flag=true), int, int64, time.Duration,
// []string (comma-separated). A secret must stay a string: kong's decode errors quote values.

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// serverSettings: every long-running role (serve, receive, work).
type serverSettings struct {
	Listen          string        `env:"TRIAGEBOT_LISTEN" default:":8080" help:"HTTP address of /webhook, /healthz, /readyz, /metrics."`
	ShutdownTimeout time.Duration `env:"TRIAGEBOT_SHUTDOWN_TIMEOUT" default:"10s" help:"How long events in flight may take to finish at shutdown."`
	AdminListen     string        `env:"TRIAGEBOT_ADMIN_LISTEN" default:"127.0.0.1:8081" help:"Address of the status page (off: none); a non-loopback address needs TRIAGEBOT_ADMIN_TOKEN."`
	AdminToken      string        `env:"TRIAGEBOT_ADMIN_TOKEN" help:"Token the status page asks for (basic authentication password, or Bearer)."`
	AdminTokenFile  string        `env:"TRIAGEBOT_ADMIN_TOKEN_FILE" type:"path" help:"File holding TRIAGEBOT_ADMIN_TOKEN."`
	NATSWait        time.Duration `name:"nats-wait" env:"TRIAGEBOT_NATS_WAIT" default:"2m" help:"How long start-up waits, retrying, for NATS to answer (/readyz says not ready meanwhile)."`
}

func (g *serverSettings) check(c *checker) {
	if _, _, err := net.SplitHostPort(g.Listen); err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			c.failf("TRIAGEBOT_LISTEN", "%q is not host:port (%s)", g.Listen, ae.Err)
		} else {
			c.failf("TRIAGEBOT_LISTEN", "%q is not host:port", g.Listen)
		}
	}
	c.positive("TRIAGEBOT_SHUTDOWN_TIMEOUT", g.ShutdownTimeout)
	c.positive("TRIAGEBOT_NATS_WAIT", g.NATSWait)
	g.checkAdmin(c)
}

// receiverSettings: the webhook receiver (serve, receive).
type receiverSettings struct {
	WebhookSecret     string   `env:"TRIAGEBOT_WEBHOOK_SECRET" help:"Webhook secret; several, comma-separated, during a rotation (this or the _FILE is required)."`
	WebhookSecretFile string   `env:"TRIAGEBOT_WEBHOOK_SECRET_FILE" type:"path" help:"File holding the webhook secret(s), comma- or newline-separated."`
	Secrets           []string `kong:"-"` // from either of the above
	MaxInflightBytes  int64    `env:"TRIAGEBOT_MAX_INFLIGHT_BYTES" default:"67108864" help:"Bytes of request bodies held at once; a delivery that cannot get its share within 1s is answered 503 (GitHub retries it)."`
	SmeeURL           string   `name:"smee-url" env:"TRIAGEBOT_SMEE_URL" help:"A smee.io channel to receive webhooks from, for trying the bot on a machine GitHub cannot reach."`
}

func (g *receiverSettings) check(c *checker) {
	if g.MaxInflightBytes < 1<<20 {
		c.failf("TRIAGEBOT_MAX_INFLIGHT_BYTES", "%d is not a number of bytes of at least 1048576 (1 MiB)", g.MaxInflightBytes)
	}
	if g.SmeeURL != "" {
		g.SmeeURL = strings.TrimSuffix(c.httpURL("TRIAGEBOT_SMEE_URL", g.SmeeURL), "/")
	}
	split := func(v string, seps string) (out []string) {
		for _, p := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	switch {
	case g.WebhookSecret != "" && g.WebhookSecretFile != "":
		c.failf("TRIAGEBOT_WEBHOOK_SECRET", "set together with TRIAGEBOT_WEBHOOK_SECRET_FILE: keep one")
	case g.WebhookSecretFile != "":
		b, err := os.ReadFile(g.WebhookSecretFile)
		if err != nil {
			c.failf("TRIAGEBOT_WEBHOOK_SECRET_FILE", "cannot read %s: %w", g.WebhookSecretFile, errors.Unwrap(err))
			return
		}
		if g.Secrets = split(string(b), ",\r\n"); len(g.Secrets) == 0 {
			c.failf("TRIAGEBOT_WEBHOOK_SECRET_FILE", "%s holds no secret", g.WebhookSecretFile)
		}
	case c.given("TRIAGEBOT_WEBHOOK_SECRET"):
		if g.Secrets = split(g.WebhookSecret, ","); len(g.Secrets) == 0 {
			c.failf("TRIAGEBOT_WEBHOOK_SECRET", "is empty")
		}
	}
}

// githubSettings: the App's access to GitHub (serve, work, redeliver).
type githubSettings struct {
	AppID          int64  `name:"app-id" env:"TRIAGEBOT_APP_ID" help:"GitHub App ID (required unless dry-run)."`
	PrivateKeyFile string `env:"TRIAGEBOT_PRIVATE_KEY_FILE" type:"path" help:"The App's PEM private key (required unless dry-run)."`
	githubURLSettings
}

func (g *githubSettings) check(c *checker) {
	if g.AppID < 0 || (g.AppID == 0 && c.given("TRIAGEBOT_APP_ID")) {
		c.failf("TRIAGEBOT_APP_ID", "%d is not an App ID (a positive number)", g.AppID)
	}
	g.githubURLSettings.check(c)
}

// githubURLSettings: where GitHub is (every command that talks to it).
type githubURLSettings struct {
	GitHubURL string `name:"github-url" env:"TRIAGEBOT_GITHUB_URL" default:"https://api.github.com/" help:"REST base URL (GitHub Enterprise Server: https://HOST/api/v3/)."`
}

func (g *githubURLSettings) check(c *checker) {
	g.GitHubURL = c.httpURL("TRIAGEBOT_GITHUB_URL", g.GitHubURL)
}

// queueSettings: NATS JetStream, embedded or external (serve, receive, work, dlq).
type queueSettings struct {
	NATSURL   string `name:"nats-url" env:"TRIAGEBOT_NATS_URL" help:"External NATS server(s), comma-separated; empty: embedded."`
	NATSCreds string `name:"nats-creds" env:"TRIAGEBOT_NATS_CREDS" type:"path" help:"NATS credentials file."`
	NATSCA    string `name:"nats-ca" env:"TRIAGEBOT_NATS_CA" type:"path" help:"CA certificate (PEM) that signed the NATS server's TLS certificate."`
	NATSCert  string `name:"nats-cert" env:"TRIAGEBOT_NATS_CERT" type:"path" help:"Client certificate (PEM) for NATS mutual TLS."`
	NATSKey   string `name:"nats-key" env:"TRIAGEBOT_NATS_KEY" type:"path" help:"Client key (PEM) for NATS mutual TLS."`
	dataDirSettings
	StoreMaxBytes int64         `env:"TRIAGEBOT_STORE_MAX_BYTES" default:"10737418240" help:"Embedded JetStream disk limit in bytes."`
	Partitions    int           `env:"TRIAGEBOT_PARTITIONS" default:"16" help:"Partitions of the event stream: they spread the fetching; events of one issue are handled in order whatever the count, which may change at any time."`
	DedupWindow   time.Duration `env:"TRIAGEBOT_DEDUP_WINDOW" default:"72h" help:"How long a delivery id is remembered against duplicates (at least 1h)."`
	MaxAttempts   int           `env:"TRIAGEBOT_MAX_ATTEMPTS" default:"10" help:"Deliveries of an event before it is dead-lettered."`
	AckWait       time.Duration `env:"TRIAGEBOT_ACK_WAIT" default:"5s" help:"How soon an event held by a worker that died is handed to another (a live worker renews it while it works)."`
	Replicas      int           `env:"TRIAGEBOT_REPLICAS" default:"1" help:"Stream replicas on an external cluster (3 for R3)."`
}

func (g *queueSettings) check(c *checker) {
	if g.NATSURL != "" {
		for _, p := range strings.Split(g.NATSURL, ",") {
			u, err := url.Parse(strings.TrimSpace(p))
			if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss") {
				c.failf("TRIAGEBOT_NATS_URL", "%q is not a nats://, tls://, ws:// or wss:// URL", p)
			}
		}
	}
	files := []struct{ env, path string }{
		{"TRIAGEBOT_NATS_CREDS", g.NATSCreds}, {"TRIAGEBOT_NATS_CA", g.NATSCA},
		{"TRIAGEBOT_NATS_CERT", g.NATSCert}, {"TRIAGEBOT_NATS_KEY", g.NATSKey},
	}
	for _, f := range files {
		switch {
		case f.path == "":
		case g.NATSURL == "":
			c.failf(f.env, "set, but TRIAGEBOT_NATS_URL is empty: the embedded server takes no credentials (set the URL or unset this)")
		default:
			c.readable(f.env, f.path)
		}
	}
	if (g.NATSCert == "") != (g.NATSKey == "") {
		c.failf("TRIAGEBOT_NATS_CERT", "TRIAGEBOT_NATS_CERT and TRIAGEBOT_NATS_KEY go together")
	}
	if g.StoreMaxBytes < 64<<20 {
		c.failf("TRIAGEBOT_STORE_MAX_BYTES", "%d is not a number of bytes of at least 67108864 (64 MiB)", g.StoreMaxBytes)
	}
	c.between("TRIAGEBOT_PARTITIONS", g.Partitions, 1, 1024)
	if c.positive("TRIAGEBOT_DEDUP_WINDOW", g.DedupWindow) && g.DedupWindow < time.Hour {
		c.failf("TRIAGEBOT_DEDUP_WINDOW", "%s is shorter than 1h, GitHub's redeliveries would be stored twice", g.DedupWindow)
	}
	c.between("TRIAGEBOT_MAX_ATTEMPTS", g.MaxAttempts, 1, 1000)
	c.positive("TRIAGEBOT_ACK_WAIT", g.AckWait)
	c.between("TRIAGEBOT_REPLICAS", g.Replicas, 1, 5)
	if g.Replicas > 1 && g.NATSURL == "" {
		c.failf("TRIAGEBOT_REPLICAS", "%d needs a NATS cluster (TRIAGEBOT_NATS_URL); the embedded server keeps one copy", g.Replicas)
	}
}

// dataDirSettings: the local data directory (the embedded store; setup's App files).
type dataDirSettings struct {
	DataDir string `env:"TRIAGEBOT_DATA_DIR" default:"./triagebot-data" help:"Embedded JetStream storage, and the App files 'triagebot setup' writes."`
}

// workerSettings: the workers (serve, work).
type workerSettings struct {
	ConfigFile     string        `name:"config" env:"TRIAGEBOT_CONFIG" type:"path" help:"Server-side defaults and notification channels (YAML)."`
	DryRun         bool          `env:"TRIAGEBOT_DRY_RUN" help:"Decide and record, but write nothing to GitHub."`
	ReconcileEvery time.Duration `env:"TRIAGEBOT_RECONCILE_EVERY" default:"5m" help:"How often GitHub's failed deliveries are looked for and redelivered (one process at a time)."`
	ReconcilePace  time.Duration `env:"TRIAGEBOT_RECONCILE_PACE" default:"1s" help:"The wait between two redelivery requests of the reconciler (the App's token allows 5,000 requests an hour)."`
	UntriagedSweep time.Duration `env:"TRIAGEBOT_UNTRIAGED_SWEEP" default:"1h" help:"How often open issues still labelled needs-triage are looked for (for untriaged notifications of issues the bot did not see open)."`
	MaxInFlight    int           `env:"TRIAGEBOT_MAX_IN_FLIGHT" default:"512" help:"Events one worker process holds at once: issues handled at the same time (one event per issue at a time)."`
}

func (g *workerSettings) check(c *checker) {
	c.positive("TRIAGEBOT_UNTRIAGED_SWEEP", g.UntriagedSweep)
	c.positive("TRIAGEBOT_RECONCILE_EVERY", g.ReconcileEvery)
	c.positive("TRIAGEBOT_RECONCILE_PACE", g.ReconcilePace)
	c.between("TRIAGEBOT_MAX_IN_FLIGHT", g.MaxInFlight, 1, 100_000)
}

// logSettings: every command that logs.
type logSettings struct {
	LogLevel  string `env:"TRIAGEBOT_LOG_LEVEL" default:"info" help:"debug | info | warn | error."`
	LogFormat string `env:"TRIAGEBOT_LOG_FORMAT" default:"json" help:"json | console."`
}

func (g *logSettings) check(c *checker) {
	switch g.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		c.failf("TRIAGEBOT_LOG_LEVEL", "%q is not debug, info, warn or error", g.LogLevel)
	}
	if g.LogFormat != "json" && g.LogFormat != "console" {
		c.failf("TRIAGEBOT_LOG_FORMAT", "%q is not json or console", g.LogFormat)
	}
}

// settings are all the groups: what start() and the roles read. A command that reads fewer
// groups leaves the others at their zero value.
type settings struct {
	serverSettings
	receiverSettings
	githubSettings
	queueSettings
	workerSettings
	logSettings
}

func (s *settings) groups() []checked {
	return []checked{&s.serverSettings, &s.receiverSettings, &s.githubSettings, &s.queueSettings, &s.workerSettings, &s.logSettings}
}

// checked is a settings group with limits to check after parsing.
type checked interface{ check(*checker) }

// checkSettings checks each group of a parsed command and returns the first problem, as the one
// line (naming the flag or variable) printed before exit status 2.
func checkSettings(kctx *kong.Context, groups ...checked) error {
	c := &checker{}
	c.given, c.name = givenSettings(kctx)
	for _, g := range groups {
		g.check(c)
		if c.err != nil {
			return withExit(2, c.err)
		}
	}
	return nil
}

// givenSettings tells which settings were given (by flag or variable) and names each as the user
// gave it: --flag when on the command line, else its variable.
func givenSettings(kctx *kong.Context) (given func(env string) bool, name func(env string) string) {
	onLine := map[string]string{} // variable -> --flag given on the command line
	var path []*kong.Path
	if kctx != nil {
		path = kctx.Path
	}
	for _, p := range path {
		if p.Flag != nil && !p.Resolved {
			for _, env := range p.Flag.Envs {
				onLine[env] = "--" + p.Flag.Name
			}
		}
	}
	given = func(env string) bool {
		_, ok := os.LookupEnv(env)
		return ok || onLine[env] != ""
	}
	name = func(env string) string {
		if f := onLine[env]; f != "" {
			return f
		}
		return env
	}
	return given, name
}

// checker collects the first problem of the settings.
type checker struct {
	err   error
	given func(env string) bool
	name  func(env string) string
}

func (c *checker) failf(env, format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%s: "+format, append([]any{c.name(env)}, args...)...)
	}
}

func (c *checker) between(env string, n, lo, hi int) {
	if n < lo || n > hi {
		c.failf(env, "%d is not between %d and %d", n, lo, hi)
	}
}

func (c *checker) positive(env string, d time.Duration) bool {
	if d <= 0 {
		c.failf(env, "%s is not a positive duration such as 90s or 2h", d)
		return false
	}
	return true
}

func (c *checker) readable(env, path string) {
	f, err := os.Open(path)
	if err != nil {
		c.failf(env, "cannot read %s: %w", path, errors.Unwrap(err))
		return
	}
	f.Close()
}

// httpURL checks an http(s) URL and gives it with a trailing slash.
func (c *checker) httpURL(env, v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		c.failf(env, "%q is not an http(s) URL", v)
		return v
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u.String()
}

// defaultSettings are the settings with every default and no environment: what tests and the
// demo start from.
func defaultSettings() settings {
	var s settings
	err := kong.ApplyDefaults(&s, kong.PostBuild(func(k *kong.Kong) error {
		for _, f := range k.Model.Flags {
			f.Envs, f.Tag.Envs = nil, nil
		}
		return nil
	}))
	if err != nil {
		panic(fmt.Sprintf("settings defaults: %v", err)) // the tags above are wrong
	}
	return s
}

// envError is how kong reports a variable whose value does not decode:
// `--flag=TYPE: problem (from envar NAME="value")`.
var envError = regexp.MustCompile(`^--[\w-]+(?:=\S+)?: (.*) \(from envar (\w+)=".*"\)$`)

// flagError is how kong reports a flag whose value does not decode: `--flag=TYPE: problem`.
var flagError = regexp.MustCompile(`^(--[\w-]+)=\S+: (.*)$`)

// usageError rewrites kong's parse errors as one line naming the variable or flag, with where to
// read more. Values of secrets never get here: they are strings, which always decode, and are
// checked by check.
func usageError(err error) error {
	msg := err.Error()
	if m := envError.FindStringSubmatch(msg); m != nil {
		return withExit(2, errors.New(m[2]+": "+m[1]))
	}
	if m := flagError.FindStringSubmatch(msg); m != nil {
		msg = m[1] + ": " + m[2]
	}
	help := "triagebot --help"
	var pe *kong.ParseError
	if errors.As(err, &pe) && pe.Context != nil && pe.Context.Selected() != nil {
		help = pe.Context.Selected().FullPath() + " --help"
	}
	return withExit(2, fmt.Errorf("%s (see '%s')", msg, help))
}
