package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// settings are the flags and TRIAGEBOT_* variables of serve, receive and work (README.md).
type settings struct {
	Listen          string
	Secrets         []string
	AppID           int64
	PrivateKeyFile  string
	GitHubURL       string
	NATSURL         string
	NATSCreds       string
	NATSCA          string
	NATSCert        string
	NATSKey         string
	DataDir         string
	ConfigFile      string
	DryRun          bool
	LogLevel        string
	LogFormat       string
	Partitions      int
	DedupWindow     time.Duration
	ReconcileEvery  time.Duration
	ReconcilePace   time.Duration
	MaxAttempts     int
	AckWait         time.Duration
	UntriagedSweep  time.Duration
	Replicas        int
	StoreMaxBytes   int64
	ShutdownTimeout time.Duration
}

func defaultSettings() settings {
	return settings{
		Listen:          ":8080",
		GitHubURL:       "https://api.github.com/",
		DataDir:         "./triagebot-data",
		LogLevel:        "info",
		LogFormat:       "json",
		Partitions:      16,
		DedupWindow:     72 * time.Hour, // GitHub redelivers for 3 days
		MaxAttempts:     10,
		AckWait:         30 * time.Second,
		UntriagedSweep:  time.Hour,
		ReconcileEvery:  5 * time.Minute,
		ReconcilePace:   time.Second,
		Replicas:        1,
		StoreMaxBytes:   10 << 30,
		ShutdownTimeout: 10 * time.Second,
	}
}

// setting is one flag with its environment variable.
type setting struct {
	flag, env, help string
	secret          bool // its value is never printed
	def             func(*settings) string
	set             func(*settings, string) error
}

func settingTable() []setting {
	str := func(f func(*settings) *string) (func(*settings) string, func(*settings, string) error) {
		return func(s *settings) string { return *f(s) },
			func(s *settings, v string) error { *f(s) = v; return nil }
	}
	integer := func(f func(*settings) *int, lo, hi int) (func(*settings) string, func(*settings, string) error) {
		return func(s *settings) string { return strconv.Itoa(*f(s)) },
			func(s *settings, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil {
					return fmt.Errorf("%q is not a whole number", v)
				}
				if n < lo || n > hi {
					return fmt.Errorf("%d is not between %d and %d", n, lo, hi)
				}
				*f(s) = n
				return nil
			}
	}
	duration := func(f func(*settings) *time.Duration) (func(*settings) string, func(*settings, string) error) {
		return func(s *settings) string { return f(s).String() },
			func(s *settings, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil || d <= 0 {
					return fmt.Errorf("%q is not a positive duration such as 90s or 2h", v)
				}
				*f(s) = d
				return nil
			}
	}
	var t []setting
	add := func(flag, env, help string, def func(*settings) string, set func(*settings, string) error) {
		t = append(t, setting{flag: flag, env: env, help: help, def: def, set: set})
	}
	add("listen", "TRIAGEBOT_LISTEN", "HTTP address of /webhook, /healthz, /readyz, /metrics",
		func(s *settings) string { return s.Listen },
		func(s *settings, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				var ae *net.AddrError
				if errors.As(err, &ae) {
					return fmt.Errorf("%q is not host:port (%s)", v, ae.Err)
				}
				return fmt.Errorf("%q is not host:port", v)
			}
			s.Listen = v
			return nil
		})
	d, s := str(func(s *settings) *string { return &s.PrivateKeyFile })
	t = append(t, setting{flag: "webhook-secret", env: "TRIAGEBOT_WEBHOOK_SECRET", secret: true,
		help: "webhook secret; several, comma-separated, during a rotation (required for serve and receive)",
		def:  func(*settings) string { return "" },
		set: func(s *settings, v string) error {
			s.Secrets = nil
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					s.Secrets = append(s.Secrets, p)
				}
			}
			if len(s.Secrets) == 0 {
				return errors.New("is empty")
			}
			return nil
		}})
	t = append(t, setting{flag: "webhook-secret-file", env: "TRIAGEBOT_WEBHOOK_SECRET_FILE",
		help: "file holding the webhook secret(s), comma- or newline-separated",
		def:  func(*settings) string { return "" },
		set: func(s *settings, v string) error {
			b, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("cannot read %s: %w", v, errors.Unwrap(err))
			}
			s.Secrets = nil
			for _, p := range strings.FieldsFunc(string(b), func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
				if p = strings.TrimSpace(p); p != "" {
					s.Secrets = append(s.Secrets, p)
				}
			}
			if len(s.Secrets) == 0 {
				return fmt.Errorf("%s holds no secret", v)
			}
			return nil
		}})
	add("app-id", "TRIAGEBOT_APP_ID", "GitHub App ID (required unless dry-run)",
		func(s *settings) string {
			if s.AppID == 0 {
				return ""
			}
			return strconv.FormatInt(s.AppID, 10)
		},
		func(s *settings, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return fmt.Errorf("%q is not an App ID (a positive number)", v)
			}
			s.AppID = n
			return nil
		})
	add("private-key-file", "TRIAGEBOT_PRIVATE_KEY_FILE", "the App's PEM private key (required unless dry-run)", d, s)
	add("github-url", "TRIAGEBOT_GITHUB_URL", "REST base URL (GitHub Enterprise Server: https://HOST/api/v3/)",
		func(s *settings) string { return s.GitHubURL },
		func(s *settings, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fmt.Errorf("%q is not an http(s) URL", v)
			}
			if !strings.HasSuffix(u.Path, "/") {
				u.Path += "/"
			}
			s.GitHubURL = u.String()
			return nil
		})
	add("nats-url", "TRIAGEBOT_NATS_URL", "external NATS server(s), comma-separated; empty: embedded",
		func(s *settings) string { return s.NATSURL },
		func(s *settings, v string) error {
			for _, p := range strings.Split(v, ",") {
				u, err := url.Parse(strings.TrimSpace(p))
				if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss") {
					return fmt.Errorf("%q is not a nats://, tls://, ws:// or wss:// URL", p)
				}
			}
			s.NATSURL = v
			return nil
		})
	d, s = str(func(s *settings) *string { return &s.NATSCreds })
	add("nats-creds", "TRIAGEBOT_NATS_CREDS", "NATS credentials file", d, s)
	d, s = str(func(s *settings) *string { return &s.NATSCA })
	add("nats-ca", "TRIAGEBOT_NATS_CA", "CA certificate (PEM) that signed the NATS server's TLS certificate", d, s)
	d, s = str(func(s *settings) *string { return &s.NATSCert })
	add("nats-cert", "TRIAGEBOT_NATS_CERT", "client certificate (PEM) for NATS mutual TLS", d, s)
	d, s = str(func(s *settings) *string { return &s.NATSKey })
	add("nats-key", "TRIAGEBOT_NATS_KEY", "client key (PEM) for NATS mutual TLS", d, s)
	d, s = str(func(s *settings) *string { return &s.DataDir })
	add("data-dir", "TRIAGEBOT_DATA_DIR", "embedded JetStream storage", d, s)
	d, s = str(func(s *settings) *string { return &s.ConfigFile })
	add("config", "TRIAGEBOT_CONFIG", "server-side defaults and notification channels (YAML)", d, s)
	add("dry-run", "TRIAGEBOT_DRY_RUN", "decide and record, but write nothing to GitHub",
		func(s *settings) string { return strconv.FormatBool(s.DryRun) },
		func(s *settings, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			s.DryRun = b
			return nil
		})
	add("log-level", "TRIAGEBOT_LOG_LEVEL", "debug | info | warn | error",
		func(s *settings) string { return s.LogLevel },
		func(s *settings, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				s.LogLevel = v
				return nil
			}
			return fmt.Errorf("%q is not debug, info, warn or error", v)
		})
	add("log-format", "TRIAGEBOT_LOG_FORMAT", "json | console",
		func(s *settings) string { return s.LogFormat },
		func(s *settings, v string) error {
			if v != "json" && v != "console" {
				return fmt.Errorf("%q is not json or console", v)
			}
			s.LogFormat = v
			return nil
		})
	d, s = integer(func(s *settings) *int { return &s.Partitions }, 1, 1024)
	add("partitions", "TRIAGEBOT_PARTITIONS", "partitions of the event stream: events of one issue are handled in order, partitions in parallel", d, s)
	d, s = duration(func(s *settings) *time.Duration { return &s.DedupWindow })
	add("dedup-window", "TRIAGEBOT_DEDUP_WINDOW", "how long a delivery id is remembered against duplicates (at least 1h)", d, s)
	d, s = integer(func(s *settings) *int { return &s.MaxAttempts }, 1, 1000)
	add("max-attempts", "TRIAGEBOT_MAX_ATTEMPTS", "deliveries of an event before it is dead-lettered", d, s)
	d, s = duration(func(s *settings) *time.Duration { return &s.AckWait })
	add("ack-wait", "TRIAGEBOT_ACK_WAIT", "how soon an event held by a worker that died is handed to another (a live worker renews it while it works)", d, s)
	d, s = integer(func(s *settings) *int { return &s.Replicas }, 1, 5)
	add("replicas", "TRIAGEBOT_REPLICAS", "stream replicas on an external cluster (3 for R3)", d, s)
	add("store-max-bytes", "TRIAGEBOT_STORE_MAX_BYTES", "embedded JetStream disk limit in bytes",
		func(s *settings) string { return strconv.FormatInt(s.StoreMaxBytes, 10) },
		func(s *settings, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 64<<20 {
				return fmt.Errorf("%q is not a number of bytes of at least 67108864 (64 MiB)", v)
			}
			s.StoreMaxBytes = n
			return nil
		})
	d, s = duration(func(s *settings) *time.Duration { return &s.ReconcileEvery })
	add("reconcile-every", "TRIAGEBOT_RECONCILE_EVERY", "how often GitHub's failed deliveries are looked for and redelivered (one process at a time; every process also does it at start)", d, s)
	d, s = duration(func(s *settings) *time.Duration { return &s.ReconcilePace })
	add("reconcile-pace", "TRIAGEBOT_RECONCILE_PACE", "the wait between two redelivery requests of the reconciler (the App's token allows 5,000 requests an hour)", d, s)
	d, s = duration(func(s *settings) *time.Duration { return &s.UntriagedSweep })
	add("untriaged-sweep", "TRIAGEBOT_UNTRIAGED_SWEEP", "how often open issues still labelled needs-triage are looked for (for untriaged notifications of issues the bot did not see open)", d, s)
	d, s = duration(func(s *settings) *time.Duration { return &s.ShutdownTimeout })
	add("shutdown-timeout", "TRIAGEBOT_SHUTDOWN_TIMEOUT", "how long events in flight may take to finish at shutdown", d, s)
	return t
}

// parseSettings reads the variables, then the flags (which win). An error names the variable or
// flag and is meant to be the one line printed before exit status 2.
func parseSettings(name string, args []string, getenv func(string) (string, bool), stdout io.Writer) (settings, error) {
	s, rest, err := parseSettingsArgs(name, args, getenv, stdout)
	if err == nil && len(rest) > 0 {
		return s, withExit(2, fmt.Errorf("%s takes no arguments, got %q", name, rest[0]))
	}
	return s, err
}

// parseSettingsArgs is parseSettings for commands that take arguments after the flags.
func parseSettingsArgs(name string, args []string, getenv func(string) (string, bool), stdout io.Writer) (settings, []string, error) {
	s := defaultSettings()
	table := settingTable()
	for _, st := range table {
		v, ok := getenv(st.env)
		if !ok {
			continue
		}
		if err := st.set(&s, v); err != nil {
			return s, nil, withExit(2, fmt.Errorf("%s: %w", st.env, err))
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, st := range table {
		fs.Func(st.flag, st.help, func(v string) error {
			if err := st.set(&s, v); err != nil {
				return fmt.Errorf("%s", err)
			}
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printSettingsHelp(stdout, name, table)
			return s, nil, errHelp
		}
		return s, nil, withExit(2, err)
	}
	if (s.NATSCert == "") != (s.NATSKey == "") {
		return s, nil, withExit(2, errors.New("TRIAGEBOT_NATS_CERT and TRIAGEBOT_NATS_KEY go together"))
	}
	if s.DedupWindow < time.Hour {
		return s, nil, withExit(2, fmt.Errorf("TRIAGEBOT_DEDUP_WINDOW: %s is shorter than 1h, GitHub's redeliveries would be stored twice", s.DedupWindow))
	}
	return s, fs.Args(), nil
}

var roleHelp = map[string]string{
	"serve":     "Runs the webhook receiver and the workers in one process. With no TRIAGEBOT_NATS_URL it\nstarts an embedded NATS JetStream server on TRIAGEBOT_DATA_DIR.",
	"receive":   "Runs the webhook receiver alone: verifies deliveries and stores them in JetStream.",
	"work":      "Runs the workers alone: takes stored events, applies the rules, acts on GitHub.",
	"dlq":       dlqUsage,
	"backfill":  "Walks OWNER/REPO's open issues once, as on installation: needs-triage for the untriaged\nones and the priority their comment count reaches, without comments or notifications.\nResumes an interrupted walk; a finished one is not done again. Usage: triagebot backfill OWNER/REPO",
	"redeliver": "Asks GitHub to redeliver the App's webhook deliveries that failed (no 2xx) in the last\n--since DUR (default 24h, at most 72h); --list only lists them. Safe to run any time: the\nreceiver stores a delivery id once.",
}

func printSettingsHelp(w io.Writer, name string, table []setting) {
	fmt.Fprintf(w, "Usage: triagebot %s [flags]\n\n%s\n\nEvery flag can also be set with its environment variable; the flag wins.\n\n", name, roleHelp[name])
	def := defaultSettings()
	for _, st := range table {
		d := st.def(&def)
		if d != "" && !st.secret {
			d = " (default " + d + ")"
		}
		fmt.Fprintf(w, "  --%s, %s%s\n      %s\n", st.flag, st.env, d, st.help)
	}
}
