package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"go.uber.org/zap"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/triagebot/triagebot/queue"
)

// Subscribed are the events the bot stores; GitHub may send others (an App's subscription can
// be wider than what the bot uses), which are answered 202 and dropped.
var subscribed = map[string]bool{
	"issues":                    true,
	"issue_comment":             true,
	"installation":              true,
	"installation_repositories": true,
	"push":                      true,
}

// EventLabel is the metric label of an X-GitHub-Event value: the events triagebot knows, else
// "other". Anyone can send any header, so nothing else may become a label value: one series per
// name a caller invents would grow /metrics without bound.
func EventLabel(event string) string {
	if subscribed[event] || event == "ping" {
		return event
	}
	return "other"
}

// Limits of what an unauthenticated caller can make the receiver hold or write.
const (
	// MaxDeliveryID bounds X-GitHub-Delivery (GitHub's are UUIDs); a longer one is refused.
	MaxDeliveryID = 200
	// DefaultMaxInflightBytes bounds the request bodies held at once.
	DefaultMaxInflightBytes = 64 << 20
	// maxLoggedEvent bounds an X-GitHub-Event value written to the log.
	maxLoggedEvent = 64
)

// Publisher stores a delivery durably; the receiver answers GitHub only after it returns.
type Publisher interface {
	Publish(ctx context.Context, d queue.Delivery) (queue.PublishResult, error)
}

// ReceiverOption tunes a Receiver.
type ReceiverOption func(*Receiver) error

// WithMaxBody sets the largest body accepted (default 25 MiB, GitHub's cap).
func WithMaxBody(n int64) ReceiverOption {
	return func(r *Receiver) error {
		if n <= 0 {
			return fmt.Errorf("max body %d: must be positive", n)
		}
		r.maxBody = n
		return nil
	}
}

// WithMaxInflightBytes bounds the bytes of request bodies held at once (default 64 MiB). A
// delivery that cannot get its share within the in-flight wait is answered 503; a body larger
// than the whole bound is answered 413.
func WithMaxInflightBytes(n int64) ReceiverOption {
	return func(r *Receiver) error {
		if n <= 0 {
			return fmt.Errorf("max in-flight bytes %d: must be positive", n)
		}
		r.inflightMax = n
		return nil
	}
}

// WithInflightWait sets how long a delivery may wait for its share of the in-flight bytes
// before it is answered 503 (default 1s).
func WithInflightWait(d time.Duration) ReceiverOption {
	return func(r *Receiver) error {
		if d <= 0 {
			return fmt.Errorf("in-flight wait %s: must be positive", d)
		}
		r.inflightWait = d
		return nil
	}
}

// WithPublishTimeout sets how long JetStream may take before the answer is 503 (default 3s).
func WithPublishTimeout(d time.Duration) ReceiverOption {
	return func(r *Receiver) error {
		if d <= 0 {
			return fmt.Errorf("publish timeout %s: must be positive", d)
		}
		r.timeout = d
		return nil
	}
}

// WithObserver is told the event (as EventLabel) and the status of every answer, for metrics.
func WithObserver(f func(event string, status int)) ReceiverOption {
	return func(r *Receiver) error { r.observe = f; return nil }
}

// Receiver is the POST /webhook handler.
type Receiver struct {
	pub     Publisher
	secrets [][]byte
	log     *zap.Logger
	maxBody int64
	timeout time.Duration
	observe func(event string, status int)

	inflightMax  int64
	inflightWait time.Duration
	inflight     *semaphore.Weighted
	held         atomic.Int64

	rejectLog  *rate.Limiter
	suppressed atomic.Int64
	draining   atomic.Bool
}

// NewReceiver verifies deliveries with any of secrets (several during a rotation) and stores
// them with pub.
func NewReceiver(pub Publisher, secrets []string, log *zap.Logger, opts ...ReceiverOption) (*Receiver, error) {
	r := &Receiver{
		pub: pub, log: log, maxBody: queue.MaxBody, timeout: 3 * time.Second,
		inflightMax: DefaultMaxInflightBytes, inflightWait: time.Second,
		// A flood of forged deliveries cannot flood the log: 10 lines at once, then one a second.
		rejectLog: rate.NewLimiter(rate.Every(time.Second), 10),
	}
	for _, s := range secrets {
		if s != "" {
			r.secrets = append(r.secrets, []byte(s))
		}
	}
	if len(r.secrets) == 0 {
		return nil, errors.New("no webhook secret")
	}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	// A body is read into a buffer of at most maxBody+1 bytes (the extra byte tells a body
	// over the limit), which must fit in the in-flight bound.
	r.maxBody = min(r.maxBody, r.inflightMax-1)
	r.inflight = semaphore.NewWeighted(r.inflightMax)
	return r, nil
}

// Drain makes the receiver refuse new deliveries with 503: GitHub records them as failed and
// they can be redelivered to a running instance.
func (r *Receiver) Drain() { r.draining.Store(true) }

// InflightBytes is how many bytes of request bodies the receiver holds now.
func (r *Receiver) InflightBytes() int64 { return r.held.Load() }

// answer is what the receiver tells GitHub.
type answer struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	event := req.Header.Get("X-GitHub-Event")
	a := r.receive(req, event)
	if r.observe != nil {
		r.observe(EventLabel(event), a.Status)
	}
	h := w.Header()
	if a.Status == http.StatusMethodNotAllowed {
		h.Set("Allow", http.MethodPost)
	}
	h["Content-Type"] = jsonContentType
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.json())
}

var jsonContentType = []string{"application/json"}

// json is the answer's body, {"message":"..."} and a newline.
func (a answer) json() []byte {
	b := make([]byte, 0, len(a.Message)+16)
	b = append(b, `{"message":`...)
	b, _ = jsontext.AppendQuote(b, a.Message)
	return append(b, "}\n"...)
}

func (r *Receiver) receive(req *http.Request, event string) answer {
	if req.Method != http.MethodPost {
		return answer{http.StatusMethodNotAllowed, "webhook deliveries are POSTed"}
	}
	if r.draining.Load() {
		return answer{http.StatusServiceUnavailable, "shutting down: deliver again later"}
	}
	// Everything that can be answered from the headers is answered before the body is read:
	// an unauthenticated caller costs no memory.
	id, sig := req.Header.Get("X-GitHub-Delivery"), req.Header.Get("X-Hub-Signature-256")
	if sig == "" {
		r.rejected(req, id, event, "missing X-Hub-Signature-256")
		return answer{http.StatusUnauthorized, "missing X-Hub-Signature-256"}
	}
	if event == "" || id == "" {
		return answer{http.StatusBadRequest, "missing X-GitHub-Event or X-GitHub-Delivery"}
	}
	if len(id) > MaxDeliveryID {
		return answer{http.StatusBadRequest, fmt.Sprintf("X-GitHub-Delivery over %d characters", MaxDeliveryID)}
	}
	if isForm(req.Header.Get("Content-Type")) {
		return answer{http.StatusUnsupportedMediaType, "form-encoded deliveries are not accepted: set the webhook's content type to application/json"}
	}
	if req.ContentLength > r.maxBody {
		return answer{http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", r.maxBody)}
	}
	body, release, a := r.readBody(req)
	defer release()
	if a.Status != 0 {
		return a
	}
	if !ValidSignature(sig, body, r.secrets...) {
		r.rejected(req, id, event, "X-Hub-Signature-256 does not match the body")
		return answer{http.StatusUnauthorized, "X-Hub-Signature-256 does not match the body"}
	}
	route, err := parseRouting(body)
	if err != nil {
		return answer{http.StatusBadRequest, "body is not a JSON object"}
	}
	if event == "ping" {
		r.log.Info("ping received", zap.String(LogKeyDeliveryID, id), zap.String("zen", route.Zen))
		return answer{http.StatusOK, "pong"}
	}
	if !subscribed[event] {
		if ce := r.log.Check(zap.DebugLevel, "event not subscribed: dropped"); ce != nil {
			ce.Write(zap.String(LogKeyDeliveryID, id), zap.String(LogKeyEvent, event))
		}
		return answer{http.StatusAccepted, "event not used by triagebot: not stored"}
	}
	d := queue.Delivery{ID: id, Event: event, InstallationID: route.InstallationID, RepoID: route.RepoID, Number: route.number(event), Body: body}
	ctx, cancel := context.WithTimeout(req.Context(), r.timeout)
	defer cancel()
	res, err := r.pub.Publish(ctx, d)
	switch {
	case errors.Is(err, queue.ErrTooLarge):
		r.log.Error("delivery larger than the NATS server's max_payload: raise max_payload to at least 26 MiB",
			zap.String(LogKeyDeliveryID, id), zap.String(LogKeyEvent, event), zap.Int("bytes", len(body)), zap.Error(err))
		return answer{http.StatusRequestEntityTooLarge, "body larger than the queue accepts"}
	case err != nil:
		r.log.Error("store delivery", zap.String(LogKeyDeliveryID, id), zap.String(LogKeyEvent, event), zap.Error(err))
		return answer{http.StatusServiceUnavailable, "queue unavailable: deliver again later"}
	}
	if ce := r.log.Check(zap.DebugLevel, "delivery stored"); ce != nil {
		ce.Write(zap.String(LogKeyDeliveryID, id), zap.String(LogKeyEvent, event), zap.Bool("duplicate", res.Duplicate), zap.Uint64("seq", res.Sequence))
	}
	if res.Duplicate {
		return answer{http.StatusAccepted, "already stored"}
	}
	return answer{http.StatusAccepted, "stored"}
}

// isForm reports whether a Content-Type is application/x-www-form-urlencoded (GitHub's other
// webhook content type), with or without parameters.
func isForm(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), "application/x-www-form-urlencoded")
}

// chunkStep is how much more of the in-flight bytes a body of unknown length takes at a time.
const chunkStep = 64 << 10

// readBody reads the body within the in-flight bound. release gives its bytes back; a non-zero
// answer is the one to give instead.
func (r *Receiver) readBody(req *http.Request) (body []byte, release func(), _ answer) {
	var held int64
	release = func() {
		if held > 0 {
			r.inflight.Release(held)
			r.held.Add(-held)
			held = 0
		}
	}
	reserve := func(n int64) bool {
		if !r.inflight.TryAcquire(n) {
			ctx, cancel := context.WithTimeout(req.Context(), r.inflightWait)
			defer cancel()
			if err := r.inflight.Acquire(ctx, n); err != nil {
				return false
			}
		}
		held += n
		r.held.Add(n)
		return true
	}
	busy := answer{http.StatusServiceUnavailable, "too many deliveries being received: deliver again later"}
	if n := req.ContentLength; n >= 0 {
		if !reserve(n) {
			return nil, release, busy
		}
		body = make([]byte, n)
		if _, err := io.ReadFull(req.Body, body); err != nil {
			return nil, release, answer{http.StatusBadRequest, "could not read the body"}
		}
		return body, release, answer{}
	}
	// Sent chunked: the buffer and its share grow as the body arrives, up to maxBody+1 bytes.
	for {
		if len(body) == cap(body) {
			grow := min(max(chunkStep, int64(cap(body))), r.maxBody+1-int64(cap(body)))
			if grow <= 0 {
				return nil, release, answer{http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", r.maxBody)}
			}
			if !reserve(grow) {
				return nil, release, busy
			}
			body = append(make([]byte, 0, int64(cap(body))+grow), body...)
		}
		n, err := req.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if errors.Is(err, io.EOF) {
			return body, release, answer{}
		}
		if err != nil {
			return nil, release, answer{http.StatusBadRequest, "could not read the body"}
		}
	}
}

// rejected logs a delivery refused for its signature, at most about once a second (with how
// many were not logged since), and never the body or the signature.
func (r *Receiver) rejected(req *http.Request, id, event, reason string) {
	if !r.rejectLog.Allow() {
		r.suppressed.Add(1)
		return
	}
	r.log.Warn("webhook signature rejected: check that GitHub and triagebot share the webhook secret",
		zap.String("reason", reason),
		zap.String(LogKeyDeliveryID, bounded(id, MaxDeliveryID)),
		zap.String(LogKeyEvent, bounded(event, maxLoggedEvent)),
		zap.String("remote_addr", req.RemoteAddr),
		zap.Int64("not_logged_since", r.suppressed.Swap(0)))
}

// bounded cuts s to at most n bytes (and valid UTF-8), marking a cut with "…".
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// ValidSignature reports whether header, an X-Hub-Signature-256 value ("sha256=" and the hex
// HMAC-SHA256 of body), was made with one of secrets. The comparison is constant-time.
func ValidSignature(header string, body []byte, secrets ...[]byte) bool {
	hexsig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexsig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	valid := false
	for _, s := range secrets {
		mac := hmac.New(sha256.New, s)
		mac.Write(body)
		// Every secret is tried, so the time taken does not tell which one matched.
		if hmac.Equal(mac.Sum(nil), got) {
			valid = true
		}
	}
	return valid
}
