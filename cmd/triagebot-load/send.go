package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// body is one payload to send, with where it goes.
type body struct {
	data  []byte
	repo  string // owner/name, for matching its effect at GitHub
	issue int
}

// maxBodies bounds the distinct payloads prepared in memory; deliveries cycle through them.
const maxBodies = 1024

// spread prepares the payload rewritten for each (installation, issue) pair the deliveries go
// to, at most maxBodies of them, padded to c.size.
func spread(raw []byte, c config) ([]body, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	n := min(c.installations*c.issues, maxBodies, c.n)
	out := make([]body, 0, n)
	for i := range n {
		inst, issue := i%c.installations, i/c.installations%c.issues
		if c.installations > 1 || c.issues > 1 {
			setPath(m, []string{"installation", "id"}, 1000+inst)
			setPath(m, []string{"repository", "id"}, 100000+inst)
			setPath(m, []string{"repository", "full_name"}, fmt.Sprintf("load-org-%d/repo", inst))
			setPath(m, []string{"issue", "number"}, 1+issue)
		}
		if c.size > 0 {
			m["padding"] = ""
		}
		data, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		if pad := c.size - len(data); c.size > 0 && pad > 0 {
			m["padding"] = strings.Repeat("x", pad)
			if data, err = json.Marshal(m); err != nil {
				return nil, err
			}
		}
		if c.installations == 1 && c.issues == 1 && c.size == 0 {
			data = raw // exactly as given
		}
		repo, _ := getPath(m, "repository", "full_name").(string)
		number, _ := getPath(m, "issue", "number").(float64)
		if v, ok := getPath(m, "issue", "number").(int); ok {
			number = float64(v)
		}
		out = append(out, body{data: data, repo: repo, issue: int(number)})
	}
	return out, nil
}

func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func getPath(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// sent is one delivery's outcome.
type sent struct {
	at      time.Time // when it was due (so a saturated receiver's queueing counts)
	latency time.Duration
	status  string
	body    int // index in bodies
}

// results of a run.
type results struct {
	sent    []sent
	elapsed time.Duration
}

// send posts c.n deliveries (or as many as c.duration allows) to url, cycling through bodies.
// The duration ends the sending; the deliveries already sent are answered (within -timeout),
// not cut off and counted as failed.
func send(ctx context.Context, c config, url string, bodies []body) results {
	sending, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	client := &http.Client{
		Timeout:   c.timeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency, MaxIdleConns: c.concurrency},
	}
	defer client.CloseIdleConnections()
	sigs := make([]string, len(bodies))
	for i, b := range bodies {
		sigs[i] = signature(c.sign, c.secret, b.data)
	}
	prefix := runID()
	out := make([]sent, c.n)
	var (
		wg    sync.WaitGroup
		slots = make(chan struct{}, c.concurrency)
		done  int
	)
	start := time.Now()
	for i := range c.n {
		due := time.Now()
		if c.rate > 0 {
			due = start.Add(time.Duration(float64(i) / c.rate * float64(time.Second)))
			if wait := time.Until(due); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-sending.Done():
				}
				t.Stop()
			}
		}
		select {
		case slots <- struct{}{}:
		case <-sending.Done():
		}
		if sending.Err() != nil {
			break
		}
		done++
		wg.Go(func() {
			defer func() { <-slots }()
			k := i % len(bodies)
			event := c.event
			if event == "random" {
				event = fmt.Sprintf("random-%s-%d", prefix, i)
			}
			out[i] = post(ctx, client, url, event, fmt.Sprintf("%s-%d", prefix, i), sigs[k], bodies[k].data)
			out[i].at, out[i].body = due, k
			out[i].latency = time.Since(due)
		})
	}
	wg.Wait()
	return results{sent: out[:done], elapsed: time.Since(start)}
}

func post(ctx context.Context, client *http.Client, url, event, id, sig string, data []byte) sent {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return sent{status: "error: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	res, err := client.Do(req)
	if err != nil {
		return sent{status: "error"}
	}
	_, _ = io.Copy(io.Discard, res.Body) // to the end, so the connection is reused
	res.Body.Close()
	return sent{status: strconv.Itoa(res.StatusCode)}
}

func signature(kind, secret string, data []byte) string {
	switch kind {
	case "none":
		return ""
	case "forged":
		return "sha256=" + strings.Repeat("0", 64)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(data)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// runID makes this run's delivery ids distinct from every other run's.
func runID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "load-" + hex.EncodeToString(b[:])
}

// percentiles of ds: p50, p90, p99, max (nearest rank).
func percentiles(ds []time.Duration) [4]time.Duration {
	if len(ds) == 0 {
		return [4]time.Duration{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return [4]time.Duration{at(0.50), at(0.90), at(0.99), s[len(s)-1]}
}

// count is how many deliveries got status.
func (r results) count(status string) int {
	n := 0
	for _, s := range r.sent {
		if s.status == status {
			n++
		}
	}
	return n
}

// first is when the first delivery was due; last when the last answer came.
func (r results) first() time.Time {
	var t time.Time
	for _, s := range r.sent {
		if t.IsZero() || s.at.Before(t) {
			t = s.at
		}
	}
	return t
}

func (r results) last() time.Time {
	var t time.Time
	for _, s := range r.sent {
		if end := s.at.Add(s.latency); end.After(t) {
			t = end
		}
	}
	return t
}

func (r results) print(w io.Writer, c config) {
	mode := fmt.Sprintf("c=%d", c.concurrency)
	if c.rate > 0 {
		mode = fmt.Sprintf("rate=%g/s, at most %d in flight", c.rate, c.concurrency)
	}
	fmt.Fprintf(w, "sent %d deliveries in %s (%s): %.0f req/s\n", len(r.sent), r.elapsed.Round(time.Millisecond), mode,
		float64(len(r.sent))/r.elapsed.Seconds())
	lat := make([]time.Duration, len(r.sent))
	statuses := map[string]int{}
	for i, s := range r.sent {
		lat[i] = s.latency
		statuses[s.status]++
	}
	fmt.Fprintf(w, "answer latency: %s\n", formatPercentiles(percentiles(lat)))
	keys := make([]string, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "status %s: %d\n", k, statuses[k])
	}
}

func formatPercentiles(p [4]time.Duration) string {
	f := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("p50 %s p90 %s p99 %s max %s", f(p[0]), f(p[1]), f(p[2]), f(p[3]))
}
