package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Smee receives deliveries from a smee.io-style channel, for trying the bot on a laptop that
// GitHub cannot reach: the App's webhook URL is the channel, and Smee subscribes to the
// channel's Server-Sent Events. Each event's data is a JSON object with the delivery's headers
// as (lower-case) keys and its payload as "body"; Smee turns it back into a POST and hands it
// to the same handler as /webhook, so it is verified and stored exactly like a direct delivery.
//
// The channel re-serialises the payload (it parses GitHub's JSON and sends JSON.stringify of
// it), so the signature verifies only when that gives back GitHub's bytes: true of GitHub's
// compact payloads, but a payload GitHub wrote with escapes JavaScript writes differently (such
// as "\u00e9" for "é") is refused as a bad signature. It is a tool to try the bot, not a
// production path.
type Smee struct {
	URL     string       // the channel, e.g. https://smee.io/abc123
	Handler http.Handler // the /webhook receiver
	Logger  *zap.Logger
	Client  *http.Client // default: one without a timeout (the stream is long-lived)
	// Backoff is the wait before reconnecting after the nth failure in a row (default
	// SmeeBackoff).
	Backoff func(n int) time.Duration

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// SmeeBackoff waits 1s, 2s, 4s ... up to a minute between reconnections.
func SmeeBackoff(n int) time.Duration {
	return min(time.Second<<min(n, 6), time.Minute)
}

// maxSmeeEvent bounds one event of the stream: a 25 MiB payload, re-encoded, and its headers.
const maxSmeeEvent = 64 << 20

// Start subscribes to the channel until Stop.
func (s *Smee) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	if s.Client == nil {
		s.Client = &http.Client{}
	}
	if s.Backoff == nil {
		s.Backoff = SmeeBackoff
	}
	s.Logger.Info("receiving webhooks from a smee channel (for trying triagebot; use a public /webhook in production)",
		zap.String("channel", s.URL))
	s.wg.Go(func() { s.run(ctx) })
}

// Stop disconnects and waits for the delivery in progress.
func (s *Smee) Stop() {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
	}
}

func (s *Smee) run(ctx context.Context) {
	for failures := 0; ; {
		connected, err := s.subscribe(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			failures = 0
		}
		wait := s.Backoff(failures)
		failures++
		s.Logger.Warn("smee channel disconnected: reconnecting", zap.Error(err), zap.Duration("in", wait))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// subscribe reads the channel's events until the stream ends; connected tells whether it got
// as far as an open stream.
func (s *Smee) subscribe(ctx context.Context) (connected bool, _ error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := s.Client.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET %s: %s", s.URL, res.Status)
	}
	r := bufio.NewReader(res.Body)
	var (
		event string
		data  bytes.Buffer
	)
	for {
		line, err := readLine(r)
		if err != nil {
			return true, err
		}
		switch {
		case len(line) == 0: // the end of an event
			if data.Len() > 0 && (event == "" || event == "message") {
				s.deliver(ctx, data.Bytes())
			}
			event = ""
			data.Reset()
		case line[0] == ':': // a comment
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			switch string(field) {
			case "event":
				event = string(value)
			case "data":
				if data.Len()+len(value) > maxSmeeEvent {
					return true, errors.New("an event over 64 MiB")
				}
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.Write(value)
			}
		}
	}
}

// readLine reads one line of the stream without its end (\n, \r\n or \r), at most
// maxSmeeEvent bytes.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, err := r.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxSmeeEvent {
			return nil, errors.New("a line over 64 MiB")
		}
		if err == nil {
			return bytes.TrimRight(line, "\r\n"), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// deliver hands one event to the receiver as the POST GitHub made to the channel.
func (s *Smee) deliver(ctx context.Context, data []byte) {
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(data, &msg); err != nil {
		s.Logger.Warn("smee event is not a JSON object: skipped", zap.Error(err))
		return
	}
	body, ok := msg["body"]
	if !ok {
		return // e.g. the channel's own {} events
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/webhook", bytes.NewReader(body))
	if err != nil {
		return
	}
	req.RemoteAddr = "smee"
	for k, v := range msg {
		var value string
		if k == "body" || k == "query" || k == "timestamp" || json.Unmarshal(v, &value) != nil {
			continue
		}
		switch strings.ToLower(k) {
		case "host", "content-length", "connection", "transfer-encoding", "accept-encoding":
			continue // of the channel's request, not of this one
		}
		req.Header.Set(k, value)
	}
	w := &statusWriter{header: http.Header{}}
	s.Handler.ServeHTTP(w, req)
	s.Logger.Info("smee delivery", zap.String(LogKeyDeliveryID, bounded(req.Header.Get("X-GitHub-Delivery"), MaxDeliveryID)),
		zap.String(LogKeyEvent, EventLabel(req.Header.Get("X-GitHub-Event"))), zap.Int("status", w.status))
}

// statusWriter is the ResponseWriter of a delivery from the channel: only the status matters.
type statusWriter struct {
	header http.Header
	status int
}

func (w *statusWriter) Header() http.Header { return w.header }
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}
