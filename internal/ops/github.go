package ops

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/triagebot/triagebot/internal/ghapp"
)

// statsWindow is how long an installation's last reading counts; requests per minute are
// counted over the last minute.
const statsWindow = time.Hour

// GitHubStats is this process's account of its GitHub requests per installation (0: the App's
// own requests): the status page's GitHub section and the budget gauges.
type GitHubStats struct {
	now func() time.Time

	mu    sync.Mutex
	insts map[int64]*instStats
}

type instStats struct {
	minute    minuteRing
	total     int64
	remaining int // x-ratelimit-remaining of the last answer; -1: none seen
	limit     int
	reset     time.Time
	seen      time.Time
	waitKind  string
	waitUntil time.Time
}

func newGitHubStats(now func() time.Time) *GitHubStats {
	return &GitHubStats{now: now, insts: map[int64]*instStats{}}
}

func (s *GitHubStats) inst(id int64) *instStats {
	st, ok := s.insts[id]
	if !ok {
		st = &instStats{remaining: -1}
		s.insts[id] = st
	}
	return st
}

// request records one answer (or a failed request: resp nil).
func (s *GitHubStats) request(id int64, resp *http.Response) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.inst(id)
	st.minute.add(now)
	st.total++
	st.seen = now
	if resp == nil || resp.StatusCode == http.StatusUnauthorized {
		return // a 401's headers are the unauthenticated budget's
	}
	if v, err := strconv.Atoi(resp.Header.Get("X-Ratelimit-Remaining")); err == nil {
		st.remaining = v
		st.limit, _ = strconv.Atoi(resp.Header.Get("X-Ratelimit-Limit"))
		if r, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			st.reset = time.Unix(r, 0)
		}
	}
}

func (s *GitHubStats) limited(id int64, kind string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.inst(id)
	if until.After(st.waitUntil) {
		st.waitKind, st.waitUntil = kind, until
	}
	st.seen = s.now()
}

// InstallationStats is one installation's line on the status page.
type InstallationStats struct {
	InstallationID   int64 // 0: the App's own (JWT) requests
	RequestsLastMin  int
	Requests         int64 // since the process started
	Remaining, Limit int   // primary budget from the last answer; Remaining -1: unknown
	Reset            time.Time
	WaitKind         string // the rate-limit wait running now, if any
	WaitUntil        time.Time
}

// GitHubSummary is the whole process's GitHub picture.
type GitHubSummary struct {
	RequestsLastMin  int
	MinRemaining     int // over installations seen within the hour; -1: none known
	LimitedPrimary   int // installations waiting for a primary limit now
	LimitedSecondary int
	Top              []InstallationStats // the busiest installations of the last minute, then the lowest budgets
	Installations    int
}

// Summary is the current picture, with at most top installations listed.
func (s *GitHubStats) Summary(top int) GitHubSummary {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := GitHubSummary{MinRemaining: -1}
	var all []InstallationStats
	for id, st := range s.insts {
		if now.Sub(st.seen) > statsWindow && !st.waitUntil.After(now) {
			delete(s.insts, id) // bounded by the installations active in the last hour
			continue
		}
		is := InstallationStats{InstallationID: id, RequestsLastMin: st.minute.lastMinute(now), Requests: st.total,
			Remaining: st.remaining, Limit: st.limit, Reset: st.reset}
		if st.reset.Before(now) && st.remaining >= 0 {
			is.Remaining = st.limit // the window has reset since the last answer
		}
		if st.waitUntil.After(now) {
			is.WaitKind, is.WaitUntil = st.waitKind, st.waitUntil
			if st.waitKind == ghapp.KindPrimary {
				sum.LimitedPrimary++
			} else {
				sum.LimitedSecondary++
			}
		}
		sum.RequestsLastMin += is.RequestsLastMin
		if id != 0 && is.Remaining >= 0 && (sum.MinRemaining < 0 || is.Remaining < sum.MinRemaining) {
			sum.MinRemaining = is.Remaining
		}
		sum.Installations++
		if top > 0 {
			all = append(all, is)
		}
	}
	slices.SortFunc(all, func(a, b InstallationStats) int {
		if a.RequestsLastMin != b.RequestsLastMin {
			return b.RequestsLastMin - a.RequestsLastMin
		}
		if a.Remaining != b.Remaining {
			return a.Remaining - b.Remaining
		}
		return int(a.InstallationID - b.InstallationID)
	})
	sum.Top = all[:min(top, len(all))]
	return sum
}

// Transport counts every request to GitHub by method, route template and status class, and
// keeps the installations' budgets, for the base transport of ghapp.Config (it sees the
// installations' token requests too). apiRoot is the REST base URL (TRIAGEBOT_GITHUB_URL):
// its path is taken off before the route is looked up.
func (m *Metrics) Transport(apiRoot string, next http.RoundTripper) http.RoundTripper {
	prefix := "/"
	if u, err := url.Parse(apiRoot); err == nil && u.Path != "" {
		prefix = u.Path
	}
	return &countingTransport{m: m, prefix: strings.TrimSuffix(prefix, "/"), next: next}
}

type countingTransport struct {
	m      *Metrics
	prefix string
	next   http.RoundTripper
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	class := "error"
	if err == nil {
		class = strconv.Itoa(resp.StatusCode/100) + "xx"
	}
	path := strings.TrimPrefix(req.URL.Path, t.prefix)
	t.m.ghRequests.WithLabelValues(req.Method, Route(path), class).Inc()
	id, _ := ghapp.InstallationID(req.Context())
	t.m.GitHub.request(id, resp)
	return resp, err
}
