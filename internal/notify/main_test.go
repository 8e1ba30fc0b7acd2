package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triagebot/triagebot/internal/queuetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, queuetest.LeakOptions()...)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// outcomes records a dispatcher's outcomes and lets a test wait for one.
type outcomes struct {
	mu  sync.Mutex
	all []Outcome
	ch  chan Outcome
}

func newOutcomes() *outcomes { return &outcomes{ch: make(chan Outcome, 1024)} }

func (o *outcomes) observe(out Outcome) {
	o.mu.Lock()
	o.all = append(o.all, out)
	o.mu.Unlock()
	o.ch <- out
}

// results are the results so far.
func (o *outcomes) results() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, x := range o.all {
		out = append(out, x.Result)
	}
	return out
}

// next waits for the next outcome.
func (o *outcomes) next(t *testing.T) Outcome {
	t.Helper()
	select {
	case out := <-o.ch:
		return out
	case <-time.After(15 * time.Second):
		t.Fatal("timed out waiting for an outcome")
		return Outcome{}
	}
}

// until waits for an outcome with result, returning it and the ones before it.
func (o *outcomes) until(t *testing.T, result string) (Outcome, []Outcome) {
	t.Helper()
	var before []Outcome
	for {
		out := o.next(t)
		if out.Result == result {
			return out, before
		}
		before = append(before, out)
	}
}

type harness struct {
	q    *Queue
	srv  *queuetest.Server
	d    *Dispatcher
	outs *outcomes
	logs *observer.ObservedLogs
}

// start sets up the queue for channels and starts a dispatcher on it with fast retries.
func start(t *testing.T, channels map[string]ChannelConfig, opts ...Option) *harness {
	t.Helper()
	srv := queuetest.Start(t, "")
	q, err := Setup(ctxT(t), srv.JS, Config{Channels: channels})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{q: q, srv: srv}
	h.startDispatcher(t, opts...)
	return h
}

func (h *harness) startDispatcher(t *testing.T, opts ...Option) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	h.outs, h.logs = newOutcomes(), logs
	opts = append([]Option{
		WithLogger(zap.New(core)),
		WithObserver(h.outs.observe),
		WithBackoff(func(int) time.Duration { return 5 * time.Millisecond }),
	}, opts...)
	d, err := NewDispatcher(h.q, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	h.d = d
	t.Cleanup(func() { _ = d.Stop(context.Background()) })
}

func (h *harness) enqueue(t *testing.T, ns ...Notification) {
	t.Helper()
	for _, n := range ns {
		if err := h.q.Enqueue(ctxT(t), n); err != nil {
			t.Fatal(err)
		}
	}
}

// waitPending waits until channel holds n notifications for its digest.
func (h *harness) waitPending(t *testing.T, channel string, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d notifications held for %s", n, channel), func() bool { return h.d.Pending(channel) == n })
}

// streamEmpty waits until every notification was acknowledged or terminated.
func (h *harness) streamEmpty(t *testing.T) {
	t.Helper()
	s, err := h.srv.JS.Stream(ctxT(t), Stream)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "an empty notification stream", func() bool {
		info, err := s.Info(ctxT(t))
		return err == nil && info.State.Msgs == 0
	})
}

// logText is every log line with its fields, for checking that a secret is absent.
func (h *harness) logText() string {
	var b strings.Builder
	for _, e := range h.logs.All() {
		fields, _ := json.Marshal(e.ContextMap())
		fmt.Fprintf(&b, "%s %s %s\n", e.Level, e.Message, fields)
	}
	return b.String()
}

func note(id, repo string, number int) Notification {
	return Notification{
		ID: id, Channel: "ops", Route: "issue_opened", Repo: repo, Number: number,
		Title: fmt.Sprintf("Crash %d when @everyone <!channel> clicks", number),
		URL:   fmt.Sprintf("https://github.com/%s/issues/%d", repo, number),
		Event: "opened", Reason: "a notification route asks for issue_opened",
		At: time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC),
	}
}

// fakeClock hands out digest windows the test closes.
type fakeClock struct {
	windows chan fakeWindow
}

type fakeWindow struct {
	d  time.Duration
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{windows: make(chan fakeWindow, 16)} }

func (c *fakeClock) Now() time.Time { return time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC) }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	w := fakeWindow{d: d, ch: make(chan time.Time, 1)}
	c.windows <- w
	return w.ch
}

func (c *fakeClock) window(t *testing.T) fakeWindow {
	t.Helper()
	select {
	case w := <-c.windows:
		return w
	case <-time.After(15 * time.Second):
		t.Fatal("no digest window was opened")
		return fakeWindow{}
	}
}
