package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

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

// WithObserver is told the status of every answer, for metrics.
func WithObserver(f func(event string, status int)) ReceiverOption {
	return func(r *Receiver) error { r.observe = f; return nil }
}

// Receiver is the POST /webhook handler.
type Receiver struct {
	pub      Publisher
	secrets  [][]byte
	log      *zap.Logger
	maxBody  int64
	timeout  time.Duration
	observe  func(event string, status int)
	draining atomic.Bool
}

// NewReceiver verifies deliveries with any of secrets (several during a rotation) and stores
// them with pub.
func NewReceiver(pub Publisher, secrets []string, log *zap.Logger, opts ...ReceiverOption) (*Receiver, error) {
	r := &Receiver{pub: pub, log: log, maxBody: queue.MaxBody, timeout: 3 * time.Second}
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
	return r, nil
}

// Drain makes the receiver refuse new deliveries with 503: GitHub records them as failed and
// they can be redelivered to a running instance.
func (r *Receiver) Drain() { r.draining.Store(true) }

// answer is what the receiver tells GitHub.
type answer struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	event := req.Header.Get("X-GitHub-Event")
	a := r.receive(req)
	if r.observe != nil {
		r.observe(event, a.Status)
	}
	if a.Status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_ = json.NewEncoder(w).Encode(a)
}

func (r *Receiver) receive(req *http.Request) answer {
	if req.Method != http.MethodPost {
		return answer{http.StatusMethodNotAllowed, "webhook deliveries are POSTed"}
	}
	if r.draining.Load() {
		return answer{http.StatusServiceUnavailable, "shutting down: deliver again later"}
	}
	if req.ContentLength > r.maxBody {
		return answer{http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", r.maxBody)}
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, r.maxBody+1))
	if err != nil {
		return answer{http.StatusBadRequest, "could not read the body"}
	}
	if int64(len(body)) > r.maxBody {
		return answer{http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", r.maxBody)}
	}
	sig := req.Header.Get("X-Hub-Signature-256")
	if sig == "" {
		return answer{http.StatusUnauthorized, "missing X-Hub-Signature-256"}
	}
	if !ValidSignature(sig, body, r.secrets...) {
		return answer{http.StatusUnauthorized, "X-Hub-Signature-256 does not match the body"}
	}
	event, id := req.Header.Get("X-GitHub-Event"), req.Header.Get("X-GitHub-Delivery")
	if event == "" || id == "" {
		return answer{http.StatusBadRequest, "missing X-GitHub-Event or X-GitHub-Delivery"}
	}
	log := r.log.With(zap.String(LogKeyDeliveryID, id), zap.String(LogKeyEvent, event))
	var route routing
	if err := json.Unmarshal(body, &route); err != nil {
		return answer{http.StatusBadRequest, "body is not a JSON object"}
	}
	if event == "ping" {
		log.Info("ping received", zap.String("zen", route.Zen))
		return answer{http.StatusOK, "pong"}
	}
	if !subscribed[event] {
		log.Debug("event not subscribed: dropped")
		return answer{http.StatusAccepted, "event not used by triagebot: not stored"}
	}
	d := queue.Delivery{ID: id, Event: event, InstallationID: route.Installation.ID, RepoID: route.Repository.ID, Number: route.number(event), Body: body}
	ctx, cancel := context.WithTimeout(req.Context(), r.timeout)
	defer cancel()
	res, err := r.pub.Publish(ctx, d)
	switch {
	case errors.Is(err, queue.ErrTooLarge):
		log.Error("delivery larger than the NATS server's max_payload: raise max_payload to at least 26 MiB", zap.Int("bytes", len(body)), zap.Error(err))
		return answer{http.StatusRequestEntityTooLarge, "body larger than the queue accepts"}
	case err != nil:
		log.Error("store delivery", zap.Error(err))
		return answer{http.StatusServiceUnavailable, "queue unavailable: deliver again later"}
	}
	log.Debug("delivery stored", zap.Bool("duplicate", res.Duplicate), zap.Uint64("seq", res.Sequence))
	if res.Duplicate {
		return answer{http.StatusAccepted, "already stored"}
	}
	return answer{http.StatusAccepted, "stored"}
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

// routing is the part of a payload the receiver needs to place it in the queue.
type routing struct {
	Zen          string `json:"zen"`
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Repository struct {
		ID int64 `json:"id"`
	} `json:"repository"`
	Issue struct {
		Number int `json:"number"`
	} `json:"issue"`
}

func (r routing) number(event string) int {
	if event == "issues" || event == "issue_comment" {
		return r.Issue.Number
	}
	return 0
}
