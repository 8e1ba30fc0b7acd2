package ghfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"
)

type delivery struct {
	id             int64
	guid           string
	event          string
	action         string
	installationID int64
	repositoryID   int64
	redelivery     bool
	payload        []byte
	done           bool
	statusCode     int
	status         string
	deliveredAt    time.Time
	duration       time.Duration
}

// Delivery is one webhook delivery attempt (a redelivery is a new attempt with the same GUID).
type Delivery struct {
	ID             int64
	GUID           string // the X-GitHub-Delivery header
	Event          string // the X-GitHub-Event header
	Action         string
	InstallationID int64
	RepositoryID   int64
	Redelivery     bool
	Payload        []byte
	Delivered      bool // false while queued
	StatusCode     int  // 0 when no response was received
	Status         string
	DeliveredAt    time.Time
	Duration       time.Duration
}

func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// enqueueLocked queues a webhook; the payload is marshalled now, as GitHub snapshots state
// when the event happens.
func (s *Server) enqueueLocked(event, action string, installationID, repositoryID int64, payload any) {
	if repositoryID != 0 && installationID == 0 {
		return // GitHub sends a repository's events only to Apps installed on it
	}
	if s.dropHooks {
		return
	}
	s.queueLocked(&delivery{guid: newGUID(), event: event, action: action,
		installationID: installationID, repositoryID: repositoryID, payload: s.payloadJSON(payload)})
}

func (s *Server) queueLocked(d *delivery) {
	s.nextDelivery++
	d.id = s.nextDelivery
	s.deliveries = append(s.deliveries, d)
	s.queue = append(s.queue, d)
	s.signalLocked()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sendLoop is the one goroutine that delivers webhooks, in order.
func (s *Server) sendLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		s.mu.Lock()
		for len(s.queue) == 0 {
			s.mu.Unlock()
			select {
			case <-s.wake:
			case <-s.stop:
				return
			}
			s.mu.Lock()
		}
		d := s.queue[0]
		target, secret := s.hookURL, s.hookSecret
		s.mu.Unlock()

		start := time.Now()
		code, status := s.post(target, secret, d)
		took := time.Since(start)

		s.log.Debug("webhook delivered", zap.String("delivery_id", d.guid), zap.String("event", d.event),
			zap.String("action", d.action), zap.Int64("installation_id", d.installationID),
			zap.Int("status", code), zap.String("result", status))
		s.mu.Lock()
		s.queue = s.queue[1:]
		d.done, d.statusCode, d.status, d.deliveredAt, d.duration = true, code, status, s.now(), took
		s.signalLocked()
		s.mu.Unlock()
	}
}

func (s *Server) post(target, secret string, d *delivery) (int, string) {
	if target == "" {
		return 0, "No webhook URL configured"
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, bytes.NewReader(d.payload))
	if err != nil {
		return 0, "Invalid URL: " + err.Error()
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(d.payload)
	mac1 := hmac.New(sha1.New, []byte(secret))
	mac1.Write(d.payload)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/ghfake")
	req.Header.Set("X-GitHub-Event", d.event)
	req.Header.Set("X-GitHub-Delivery", d.guid)
	req.Header.Set("X-GitHub-Hook-ID", "1")
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	req.Header.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(s.appID, 10))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac1.Sum(nil)))
	resp, err := s.hookClient.Do(req)
	if err != nil {
		return 0, "We couldn't deliver this payload: " + err.Error()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, "OK"
	}
	return resp.StatusCode, fmt.Sprintf("Invalid HTTP Response: %d", resp.StatusCode)
}

// Flush waits until every queued webhook, including those queued while it waits, has been
// delivered (or failed).
func (s *Server) Flush(ctx context.Context) error {
	return s.Wait(ctx, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.queue) == 0
	})
}

// Deliveries returns every delivery attempt, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, 0, len(s.deliveries))
	for _, d := range s.deliveries {
		out = append(out, Delivery{ID: d.id, GUID: d.guid, Event: d.event, Action: d.action,
			InstallationID: d.installationID, RepositoryID: d.repositoryID, Redelivery: d.redelivery,
			Payload: bytes.Clone(d.payload), Delivered: d.done, StatusCode: d.statusCode, Status: d.status,
			DeliveredAt: d.deliveredAt, Duration: d.duration})
	}
	return out
}

// Redeliver queues a new attempt of delivery id, as POST /app/hook/deliveries/{id}/attempts does.
func (s *Server) Redeliver(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.redeliverLocked(id)
}

func (s *Server) redeliverLocked(id int64) error {
	for _, d := range s.deliveries {
		if d.id == id {
			s.queueLocked(&delivery{guid: d.guid, event: d.event, action: d.action, installationID: d.installationID,
				repositoryID: d.repositoryID, redelivery: true, payload: d.payload})
			return nil
		}
	}
	return fmt.Errorf("ghfake: no delivery %d", id)
}

// Event emitters. Callers hold s.mu; sender is the acting user's login.

func (s *Server) issuesEventLocked(r *repo, is *issue, action, sender string, edit func(*github.IssuesEvent)) {
	if is.pull {
		return // GitHub sends pull_request events for these, to which the App is not subscribed
	}
	ev := &github.IssuesEvent{Action: ptr(action), Issue: s.ghIssueLocked(r, is), Repo: s.ghRepoLocked(r),
		Sender: s.ghUserLocked(sender), Installation: s.ghInstallationLocked(r.installationID)}
	if edit != nil {
		edit(ev)
	}
	s.enqueueLocked("issues", action, r.installationID, r.id, ev)
}

func (s *Server) labelEventLocked(r *repo, is *issue, action, name, sender string) {
	s.issuesEventLocked(r, is, action, sender, func(ev *github.IssuesEvent) {
		ev.Label = s.ghLabelLocked(r, s.labelForLocked(r, name))
	})
}

func (s *Server) assigneeEventLocked(r *repo, is *issue, action, assignee, sender string) {
	s.issuesEventLocked(r, is, action, sender, func(ev *github.IssuesEvent) {
		ev.Assignee = s.ghUserLocked(assignee)
	})
}

func (s *Server) commentEventLocked(r *repo, is *issue, c *comment, action, sender string, from *string) {
	ev := &github.IssueCommentEvent{Action: ptr(action), Issue: s.ghIssueLocked(r, is),
		Comment: s.ghCommentLocked(r, c), Repo: s.ghRepoLocked(r), Sender: s.ghUserLocked(sender),
		Installation: s.ghInstallationLocked(r.installationID)}
	if from != nil {
		ev.Changes = &github.EditChange{Body: &github.EditBody{From: from}}
	}
	s.enqueueLocked("issue_comment", action, r.installationID, r.id, ev)
}

// DeliveryCounts are the delivery attempts made or queued so far, and those still queued;
// cheaper than Deliveries for a load generator that polls.
func (s *Server) DeliveryCounts() (total, queued int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.deliveries), len(s.queue)
}
