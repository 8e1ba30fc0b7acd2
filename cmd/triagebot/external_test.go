package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

// startExternalNATS runs a nats-server with JetStream listening on loopback (on opts.Port, or
// any free port), as an external deployment would have it, and returns its URL.
func startExternalNATS(t *testing.T, opts *server.Options) string {
	t.Helper()
	return startExternalNATSServer(t, opts).ClientURL()
}

// startExternalNATSServer is startExternalNATS, returning the server (to stop it early).
func startExternalNATSServer(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host = "127.0.0.1"
	if opts.Port == 0 {
		opts.Port = -1 // any free port
	}
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	opts.NoSigs = true
	opts.NoLog = true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv
}

// Served against an external NATS server: events are handled, the data directory is left alone,
// and a clean shutdown logs no warning (closing its own connection used to log "NATS
// disconnected" at every deploy).
func TestServeAgainstAnExternalNATSServer(t *testing.T) {
	url := startExternalNATS(t, &server.Options{})
	warnings, logs := observer.New(zap.WarnLevel)
	log := zap.New(zapcore.NewTee(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Core(), warnings))
	rec := newRecorder()
	s := defaultSettings()
	s.Listen = "127.0.0.1:0"
	s.AdminListen = ""
	s.NATSURL = url
	s.DataDir = filepath.Join(t.TempDir(), "unused")
	s.Secrets = []string{testSecret}
	s.ShutdownTimeout = 5 * time.Second
	a, err := start(context.Background(), "serve", s, log, startOptions{executor: rec})
	if err != nil {
		t.Fatal(err)
	}
	shutdown := sync.OnceFunc(func() {
		if err := a.shutdown(); err != nil {
			t.Error(err)
		}
	})
	defer shutdown()
	if status := postDelivery(t, a.addr, "issues", "ext-1", webhookBody(t, "issues/opened.json", nil)); status != http.StatusAccepted {
		t.Fatalf("status %d", status)
	}
	calls := rec.waitFor(t, "the delivery", func(c []execCall) bool { return len(c) == 1 })
	if calls[0].Target.DeliveryID != "ext-1" || len(calls[0].Actions) != 1 {
		t.Fatalf("call %+v", calls[0])
	}
	if _, err := os.Stat(s.DataDir); !os.IsNotExist(err) {
		t.Fatalf("an external NATS run touched TRIAGEBOT_DATA_DIR: %v", err)
	}
	logs.TakeAll() // start's: this test's server has a small max_payload
	shutdown()
	for _, e := range logs.All() {
		t.Errorf("clean shutdown logged %s %q %v", e.Level, e.Message, e.ContextMap())
	}
}

// A NATS server that goes away is still reported: the warning is skipped only for the
// process's own close.
func TestLostNATSServerIsWarnedOf(t *testing.T) {
	srv := startExternalNATSServer(t, &server.Options{MaxPayload: 32 << 20})
	warnings, logs := observer.New(zap.WarnLevel)
	s := defaultSettings()
	s.Listen, s.AdminListen, s.NATSURL = "127.0.0.1:0", "", srv.ClientURL()
	s.Secrets = []string{testSecret}
	s.ShutdownTimeout = time.Second
	a, err := start(context.Background(), "receive", s, zap.New(warnings), startOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.shutdown() }()
	srv.Shutdown()
	deadline := time.Now().Add(10 * time.Second)
	for logs.FilterMessage("NATS disconnected").Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no warning 10s after the NATS server stopped; logged %v", logs.All())
		}
		time.Sleep(10 * time.Millisecond) // polling, bounded by the deadline
	}
}

func TestExternalNATSCredentialsAreUsed(t *testing.T) {
	url := startExternalNATS(t, &server.Options{Username: "bot", Password: "pw"})
	rec := newRecorder()
	s := defaultSettings()
	s.Listen = "127.0.0.1:0"
	s.AdminListen = ""
	s.Secrets = []string{testSecret}
	base := strings.TrimPrefix(url, "nats://")

	s.NATSURL = "nats://bot:wrong@" + base
	_, err := start(context.Background(), "serve", s, zap.NewNop(), startOptions{executor: rec})
	if code := exitCode(err, &strings.Builder{}); code != 2 || !strings.Contains(err.Error(), "TRIAGEBOT_NATS_URL: nats: Authorization Violation") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong password: exit %d, %v", code, err)
	}

	s.NATSURL = fmt.Sprintf("nats://bot:pw@%s", base)
	a, err := start(context.Background(), "serve", s, zap.NewNop(), startOptions{executor: rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.shutdown(); err != nil {
		t.Fatal(err)
	}
}
