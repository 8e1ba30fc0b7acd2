package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// WebhookPayload is the JSON a webhook channel receives: Slack and Mattermost show Text; other
// consumers read Items.
type WebhookPayload struct {
	Text  string        `json:"text"`
	Items []WebhookItem `json:"items"`
}

// WebhookItem is one notification of a digest, in structured form (user text unescaped).
type WebhookItem struct {
	ID     string    `json:"id"`
	Route  string    `json:"route"`
	Repo   string    `json:"repo"`
	Number int       `json:"number"`
	Title  string    `json:"title"`
	URL    string    `json:"url"`
	Event  string    `json:"event"`
	Reason string    `json:"reason"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// webhookPayload builds the digest of items.
func webhookPayload(items []Notification) WebhookPayload {
	p := WebhookPayload{Items: make([]WebhookItem, len(items))}
	lines := make([]string, 0, len(items)+1)
	if len(items) > 1 {
		lines = append(lines, fmt.Sprintf("triagebot: %d notifications", len(items)))
	}
	for i, n := range items {
		p.Items[i] = WebhookItem{ID: n.ID, Route: n.Route, Repo: n.Repo, Number: n.Number, Title: n.Title,
			URL: n.URL, Event: n.event(), Reason: n.Reason, Text: n.Text, At: n.At}
		line := chatEscape(n.line())
		if len(items) > 1 {
			line = "• " + line
		}
		lines = append(lines, line)
	}
	p.Text = strings.Join(lines, "\n")
	return p
}

// chatEscape makes user text inert in Slack (<!channel>, <@U123>, links) and Mattermost
// (@channel, @all, @user).
func chatEscape(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return neutralizeMentions(s)
}

type webhookSender struct {
	client *http.Client
	now    func() time.Time
}

// send posts one digest. Outcomes: 2xx done; 429 retry after Retry-After; 408 and 5xx and
// network errors transient; other 4xx permanent. No error mentions the URL beyond its host.
func (w webhookSender) send(ctx context.Context, ch ChannelConfig, items []Notification) error {
	body, err := json.Marshal(webhookPayload(items))
	if err != nil {
		return sendErrorf(true, "encode webhook payload: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.URL.Reveal(), bytes.NewReader(body))
	if err != nil {
		return sendErrorf(true, "webhook %s: bad request", ch.URL)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "triagebot")
	req.Header.Set("Idempotency-Key", digestID(items))
	for k, v := range ch.Headers {
		req.Header.Set(k, v)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// url.Error quotes the whole URL: keep only what it wraps.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return sendErrorf(false, "webhook %s: %s", ch.URL, scrub(err.Error(), ch.URL.Reveal()))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusTooManyRequests:
		wait := parseRetryAfter(resp.Header.Get("Retry-After"), w.now())
		return &SendError{Msg: fmt.Sprintf("webhook %s: 429 Too Many Requests", ch.URL), Wait: wait}
	case code == http.StatusRequestTimeout || code >= 500:
		return sendErrorf(false, "webhook %s: HTTP %d", ch.URL, code)
	case code >= 400:
		return sendErrorf(true, "webhook %s: HTTP %d", ch.URL, code)
	default:
		return sendErrorf(false, "webhook %s: unexpected HTTP %d", ch.URL, code)
	}
}

// parseRetryAfter reads seconds or an HTTP date; without one, a minute, as chat services ask.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return max(time.Duration(s)*time.Second, time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), time.Second)
	}
	return time.Minute
}

// scrub removes a secret wherever an underlying error might have quoted it.
func scrub(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, redactURL(secret))
}
