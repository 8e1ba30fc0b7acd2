package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// startExternalNATS runs a nats-server with JetStream listening on loopback (on opts.Port, or
// any free port), as an external deployment would have it.
func startExternalNATS(t *testing.T, opts *server.Options) string {
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
	return srv.ClientURL()
}

func TestServeAgainstAnExternalNATSServer(t *testing.T) {
	url := startExternalNATS(t, &server.Options{})
	rec := newRecorder()
	s := defaultSettings()
	s.Listen = "127.0.0.1:0"
	s.AdminListen = ""
	s.NATSURL = url
	s.DataDir = filepath.Join(t.TempDir(), "unused")
	s.Secrets = []string{testSecret}
	s.ShutdownTimeout = 5 * time.Second
	a, err := start(context.Background(), "serve", s, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), startOptions{executor: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := a.shutdown(); err != nil {
			t.Error(err)
		}
	}()
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
