// Package queuetest starts a real embedded JetStream server for tests.
package queuetest

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/triagebot/triagebot/queue"
)

// Server is an embedded JetStream server in a test's temporary directory.
type Server struct {
	Embedded *queue.Embedded
	Conn     *nats.Conn
	JS       jetstream.JetStream
	Dir      string
}

// Start starts a server in dir (t.TempDir() when empty); it is shut down when the test ends.
func Start(t testing.TB, dir string) *Server {
	t.Helper()
	return StartWith(t, queue.EmbeddedConfig{Dir: dir})
}

// StartWith starts a server with cfg (Dir: t.TempDir() when empty).
func StartWith(t testing.TB, cfg queue.EmbeddedConfig) *Server {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	dir := cfg.Dir
	e, err := queue.StartEmbedded(cfg)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := e.Connect()
	if err != nil {
		e.Shutdown()
		t.Fatal(err)
	}
	js, err := queue.JetStream(nc)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Embedded: e, Conn: nc, JS: js, Dir: dir}
	t.Cleanup(s.Close)
	return s
}

// Close closes the connection and stops the server; it may be called more than once.
func (s *Server) Close() {
	if s.Conn != nil {
		s.Conn.Close()
	}
	if s.Embedded != nil {
		s.Embedded.Shutdown()
		s.Embedded = nil
	}
}

// Queue starts a server and sets up the queue on it.
func Queue(t testing.TB, cfg queue.Config) (*queue.Queue, *Server) {
	t.Helper()
	s := Start(t, "")
	q, err := queue.Setup(context.Background(), s.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return q, s
}

// LeakOptions are the goroutines goleak should not count: nats-server keeps a few process-wide
// ones alive after Shutdown.
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*Server).startGoRoutine.func1"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*JetStream).monitorCluster"),
		goleak.IgnoreTopFunction("time.Sleep"),
	}
}

// Msgs is the number of messages a stream holds now.
func Msgs(t testing.TB, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}
