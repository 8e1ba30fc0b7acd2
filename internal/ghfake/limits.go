package ghfake

import (
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"
)

type bucket struct {
	limit int
	used  int
	reset time.Time
	told  bool // an answer of this window said x-ratelimit-remaining: 0
}

// bucketLocked returns the primary rate-limit bucket of an installation (0: the App),
// starting a new window when the last one has passed.
func (s *Server) bucketLocked(key int64, now time.Time) *bucket {
	b, ok := s.buckets[key]
	if !ok {
		b = &bucket{limit: s.rateLimit}
		s.buckets[key] = b
	}
	if !now.Before(b.reset) {
		b.used, b.reset, b.told = 0, now.Add(rateWindow).Truncate(time.Second), false
	}
	return b
}

func (s *Server) withRate(key int64, res response) response {
	b := s.buckets[key]
	if b == nil {
		return res
	}
	if res.header == nil {
		res.header = http.Header{}
	}
	remaining := max(b.limit-b.used, 0)
	if remaining == 0 {
		b.told = true
	}
	res.header.Set("X-RateLimit-Limit", strconv.Itoa(b.limit))
	res.header.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	res.header.Set("X-RateLimit-Used", strconv.Itoa(b.used))
	res.header.Set("X-RateLimit-Reset", strconv.FormatInt(b.reset.Unix(), 10))
	res.header.Set("X-RateLimit-Resource", "core")
	return res
}

// anonymousRate adds the headers GitHub sends to requests it could not attribute to an
// installation (bad credentials, unknown routes): the unauthenticated budget, not consumed here.
func (s *Server) anonymousRate(res response, now time.Time) response {
	const anonymous, anonymousLimit = -1, 60
	b, ok := s.buckets[anonymous]
	if !ok {
		b = &bucket{limit: anonymousLimit}
		s.buckets[anonymous] = b
	}
	if !now.Before(b.reset) {
		b.reset = now.Add(rateWindow).Truncate(time.Second)
	}
	return s.withRate(anonymous, res)
}

// ExhaustRateLimit uses up the primary budget of an installation (0: the App) until its
// window resets. The client cannot know until an answer tells it, so the first request after
// this is refused but is not a violation; the ones after that answer are.
func (s *Server) ExhaustRateLimit(installationID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bucketLocked(installationID, s.now())
	b.used = b.limit
}

// RateLimitRemaining returns the remaining primary budget of an installation and when it resets.
func (s *Server) RateLimitRemaining(installationID int64) (int, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bucketLocked(installationID, s.now())
	return b.limit - b.used, b.reset
}

// Faults are injected failures. Zero values mean none.
type Faults struct {
	ErrorRate float64 // fraction of requests answered 500 or 502, in [0, 1]
	// AppliedErrorRate is the fraction, in [0, 1], of failing writes that take effect (and send
	// their webhooks) before the 5xx, as when GitHub times out after committing a change.
	AppliedErrorRate float64
	Seed             uint64        // makes the choice of failing requests deterministic
	Latency          time.Duration // added before every response
}

type faultState struct {
	errorRate       float64
	appliedRate     float64
	rng             *mrand.Rand
	latency         time.Duration
	secondaryLeft   int
	secondaryStatus int
	retryAfter      time.Duration
}

// SetFaults replaces the injected 5xx rate and latency, reseeding the choice of failures.
func (s *Server) SetFaults(f Faults) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setFaults(f)
}

func (s *Server) setFaults(f Faults) error {
	if f.ErrorRate < 0 || f.ErrorRate > 1 || f.AppliedErrorRate < 0 || f.AppliedErrorRate > 1 || f.Latency < 0 {
		return fmt.Errorf("faults %+v: rates must be in [0,1] and latency not negative", f)
	}
	s.faults.errorRate, s.faults.appliedRate, s.faults.latency = f.ErrorRate, f.AppliedErrorRate, f.Latency
	s.faults.rng = mrand.New(mrand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	return nil
}

// InjectSecondaryLimit answers the next n rate-limited requests with a secondary rate limit:
// status 403 or 429 with Retry-After. Requests that then arrive before Retry-After has passed
// are recorded as violations. A retryAfter of 0 sends no Retry-After header, and then a client
// must wait at least a minute (GitHub's guidance), which is the window violations are judged by.
func (s *Server) InjectSecondaryLimit(n, status int, retryAfter time.Duration) error {
	if n < 0 || (status != http.StatusForbidden && status != http.StatusTooManyRequests) || (retryAfter != 0 && retryAfter < time.Second) {
		return fmt.Errorf("secondary limit: n %d >= 0, status 403 or 429 (got %d), retry-after 0 or >= 1s (got %v)", n, status, retryAfter)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.secondaryLeft, s.faults.secondaryStatus, s.faults.retryAfter = n, status, retryAfter
	return nil
}

// Violation is a request that arrived while the fake had told its client to wait.
type Violation struct {
	Time           time.Time
	Method, Path   string
	InstallationID int64
	WaitUntil      time.Time
	Reason         string
}

func (s *Server) violationLocked(c *call, key int64, until time.Time, reason string) {
	s.violations = append(s.violations, Violation{Time: c.now, Method: c.r.Method, Path: c.r.URL.Path,
		InstallationID: key, WaitUntil: until, Reason: reason})
}

// Violations returns the requests that arrived inside a Retry-After window, or before the reset
// of a primary limit after an answer said x-ratelimit-remaining: 0.
func (s *Server) Violations() []Violation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// Request is one entry of the request log.
type Request struct {
	Time           time.Time
	Method         string
	Route          string // the OpenAPI path template; empty when no route matched
	Path           string // without the prefix
	Status         int
	InstallationID int64
}

// Endpoint is "METHOD /route/{template}", the key of RequestStats.ByEndpoint.
func (r Request) Endpoint() string {
	if r.Route == "" {
		return r.Method + " (unknown)"
	}
	return r.Method + " " + r.Route
}

// RequestStats summarises the request log, for API-economy measurements.
type RequestStats struct {
	Total       int
	Reads       int // GET and HEAD, except 304s
	Writes      int // every other method
	NotModified int // 304 answers to conditional reads
	ByEndpoint  map[string]int
}

// Requests returns the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestStats counts the request log.
func (s *Server) RequestStats() RequestStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := RequestStats{ByEndpoint: map[string]int{}}
	for _, r := range s.requests {
		st.Total++
		st.ByEndpoint[r.Endpoint()]++
		switch {
		case r.Status == http.StatusNotModified:
			st.NotModified++
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			st.Reads++
		default:
			st.Writes++
		}
	}
	return st
}

// ResetRequests empties the request log and the violations.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.violations = nil, nil
}
