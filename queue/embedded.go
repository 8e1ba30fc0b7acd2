package queue

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
)

// MaxBody is GitHub's cap on a webhook payload (25 MiB). The embedded server's max_payload
// leaves room above it for headers.
const MaxBody = 25 << 20

const embeddedMaxPayload = 32 << 20

// EmbeddedConfig configures the in-process NATS server.
type EmbeddedConfig struct {
	Dir       string // JetStream storage directory
	MaxStore  int64  // JetStream file storage limit in bytes
	MaxMemory int64  // JetStream memory storage limit in bytes
	// MaxPayload is the largest message (default 32 MiB: GitHub's 25 MiB plus headers).
	MaxPayload int32
	Logger     *zap.Logger
	// Listen, when set ("127.0.0.1:0" takes a free port), also takes NATS clients of other
	// processes there (ClientURL): the load tool's `receive` and `work` processes. Empty: none,
	// in-process connections only, as `serve` runs it.
	Listen string
}

// Embedded is an in-process nats-server with JetStream on local disk and, unless asked, no
// listening port.
type Embedded struct {
	srv    *server.Server
	unlock func()
}

// ErrDataDirInUse means another process runs an embedded server on the same directory.
var ErrDataDirInUse = errors.New("data directory in use")

// StartEmbedded starts the server and waits until it accepts connections.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.Dir == "" {
		return nil, errors.New("embedded nats: no data directory")
	}
	if cfg.MaxStore <= 0 {
		cfg.MaxStore = 10 << 30
	}
	if cfg.MaxMemory <= 0 {
		cfg.MaxMemory = 256 << 20
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = embeddedMaxPayload
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	opts := &server.Options{
		ServerName:         "triagebot-embedded",
		DontListen:         true,
		JetStream:          true,
		StoreDir:           cfg.Dir,
		JetStreamMaxStore:  cfg.MaxStore,
		JetStreamMaxMemory: cfg.MaxMemory,
		MaxPayload:         cfg.MaxPayload,
		NoSigs:             true,
	}
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("embedded nats: listen %q: not a host:port", cfg.Listen)
		}
		if n == 0 {
			n = server.RANDOM_PORT
		}
		opts.DontListen, opts.Host, opts.Port = false, host, n
	}
	unlock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	srv.SetLoggerV2(&natsLogger{log: cfg.Logger.Named("nats")}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		unlock()
		return nil, errors.New("embedded nats: not ready within 30s")
	}
	return &Embedded{srv: srv, unlock: unlock}, nil
}

// ClientURL is where other processes connect (EmbeddedConfig.Listen), or "" when it takes none.
func (e *Embedded) ClientURL() string {
	if e.srv.Addr() == nil {
		return ""
	}
	return e.srv.ClientURL()
}

// Connect opens an in-process connection to the server.
func (e *Embedded) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(e.srv), nats.Name("triagebot")}, opts...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded nats: %w", err)
	}
	return nc, nil
}

// Shutdown stops the server and waits for it.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	e.unlock()
}

// natsLogger routes nats-server's log lines into zap.
type natsLogger struct{ log *zap.Logger }

func (l *natsLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Warnf(format string, v ...any) {
	if strings.HasPrefix(format, "Maximum payloads over") {
		// Deliberate: GitHub's deliveries may be 25 MiB.
		l.log.Debug(fmt.Sprintf(format, v...))
		return
	}
	l.log.Warn(fmt.Sprintf(format, v...))
}
func (l *natsLogger) Fatalf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *natsLogger) Tracef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
