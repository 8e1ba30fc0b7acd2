package ghapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/triagebot/triagebot/queue"
)

func TestClassifyLimit(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	reset := strconv.FormatInt(now.Add(2*time.Minute).Unix(), 10)
	tests := []struct {
		name     string
		status   int
		headers  map[string]string
		body     string
		strikes  int
		wantKind string
		wantWait time.Duration
	}{
		{name: "ok", status: 200},
		{name: "primary 403", status: 403, headers: map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": reset},
			body: `{"message":"API rate limit exceeded"}`, wantKind: KindPrimary, wantWait: 2*time.Minute + time.Second},
		{name: "primary 429", status: 429, headers: map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": reset},
			wantKind: KindPrimary, wantWait: 2*time.Minute + time.Second},
		{name: "primary reset passed", status: 403, headers: map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)},
			wantKind: KindPrimary, wantWait: time.Second},
		{name: "secondary with retry-after", status: 403, headers: map[string]string{"Retry-After": "30", "X-Ratelimit-Remaining": "4000"},
			body: `{"message":"You have exceeded a secondary rate limit"}`, wantKind: KindSecondary, wantWait: 30 * time.Second},
		{name: "retry-after wins over remaining 0", status: 429, headers: map[string]string{"Retry-After": "7", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": reset},
			wantKind: KindSecondary, wantWait: 7 * time.Second},
		{name: "secondary 429 without header", status: 429, wantKind: KindSecondary, wantWait: time.Minute},
		{name: "secondary again doubles", status: 429, strikes: 2, wantKind: KindSecondary, wantWait: 4 * time.Minute},
		{name: "secondary capped", status: 429, strikes: 20, wantKind: KindSecondary, wantWait: 30 * time.Minute},
		{name: "abuse message", status: 403, body: `{"message":"You have triggered an abuse detection mechanism."}`,
			wantKind: KindSecondary, wantWait: time.Minute},
		{name: "secondary documentation url", status: 403,
			body:     `{"message":"Forbidden","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`,
			wantKind: KindSecondary, wantWait: time.Minute},
		{name: "permission 403", status: 403, body: `{"message":"Resource not accessible by integration"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tt.body))}
			for k, v := range tt.headers {
				resp.Header.Set(k, v)
			}
			kind, wait := classifyLimit(resp, now, tt.strikes)
			if kind != tt.wantKind || wait != tt.wantWait {
				t.Errorf("classifyLimit = %q %s, want %q %s", kind, wait, tt.wantKind, tt.wantWait)
			}
			if body, _ := io.ReadAll(resp.Body); string(body) != tt.body {
				t.Errorf("body after classifying = %q, want it intact", body)
			}
		})
	}
}

// scripted answers a path with the given responses in turn, then 200 {}.
type scripted struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter)
	bodies  []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	var next func(w http.ResponseWriter)
	if len(s.answers) > 0 {
		next, s.answers = s.answers[0], s.answers[1:]
	}
	s.mu.Unlock()
	if next == nil && strings.HasSuffix(r.URL.Path, "/labels") {
		writeJSON(w, 200, []any{})
		return
	}
	if next == nil {
		writeJSON(w, 200, map[string]any{"id": 1, "number": 1})
		return
	}
	next(w)
}

func answer(status int, headers map[string]string, body string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestShortWaitHappensInProcess(t *testing.T) {
	g := newGHServer(t)
	s := &scripted{answers: []func(http.ResponseWriter){answer(429, map[string]string{"Retry-After": "5"}, `{"message":"slow down"}`)}}
	g.handle("POST /repos/o/r/issues/1/comments", s.ServeHTTP)
	a, clock := newTestApp(t, g)
	_, _, err := a.Installation(1).Issues.CreateComment(context.Background(), "o", "r", 1, &github.IssueComment{Body: github.String("hi")})
	if err != nil {
		t.Fatalf("CreateComment: %v", err)
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Second}, clock.Sleeps()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`{"body":"hi"}` + "\n", `{"body":"hi"}` + "\n"}, s.bodies); diff != "" {
		t.Errorf("the retried request's body (-want +got):\n%s", diff)
	}
}

func TestLongWaitIsTypedErrorAndNothingIsSentMeanwhile(t *testing.T) {
	g := newGHServer(t)
	a, clock := newTestApp(t, g)
	reset := strconv.FormatInt(clock.Now().Add(time.Hour).Unix(), 10)
	s := &scripted{answers: []func(http.ResponseWriter){answer(403,
		map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": reset}, `{"message":"API rate limit exceeded"}`)}}
	g.handle("GET /repos/o/r/issues/1", s.ServeHTTP)
	g.handle("POST /repos/o/r/issues/1/labels", s.ServeHTTP)
	gh := a.Installation(1)
	ctx := context.Background()

	_, _, err := gh.Issues.Get(ctx, "o", "r", 1)
	var ra *RetryAfterError
	if !errors.As(err, &ra) {
		t.Fatalf("Get error = %v, want a *RetryAfterError", err)
	}
	if ra.Kind != KindPrimary || ra.Wait != time.Hour+time.Second || ra.Status != 403 || ra.InstallationID != 1 {
		t.Errorf("RetryAfterError = %+v", ra)
	}
	if d, ok := queue.RetryAfter(fmt.Errorf("wrapped: %w", Classify(err))); !ok || d != time.Hour+time.Second {
		t.Errorf("queue.RetryAfter(classified) = %s %v", d, ok)
	}
	if queue.IsPermanent(Classify(err)) {
		t.Error("a rate limit classified as permanent")
	}

	clock.Advance(30 * time.Minute)
	_, _, err = gh.Issues.AddLabelsToIssue(ctx, "o", "r", 1, []string{"x"})
	if !errors.As(err, &ra) || ra.Status != 0 || ra.Wait != 30*time.Minute+time.Second {
		t.Fatalf("second call error = %v (%+v), want a fail-fast RetryAfterError for the rest of the wait", err, ra)
	}
	if other, _, err := a.Installation(2).Issues.Get(ctx, "o", "r", 1); err != nil || other == nil {
		t.Errorf("another installation was held back too: %v", err)
	}
	if got := g.calls(); len(got) != 2 {
		t.Errorf("requests sent = %v, want the limited one and the other installation's only", got)
	}

	clock.Advance(30*time.Minute + time.Second)
	if _, _, err := gh.Issues.Get(ctx, "o", "r", 1); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
}

// A wait shorter than the threshold, left by another request, is waited out in-process.
func TestRequestsWaitOutShortBlock(t *testing.T) {
	g := newGHServer(t)
	a, clock := newTestApp(t, g)
	s := &scripted{}
	g.handle("GET /repos/o/r/issues/1", s.ServeHTTP)
	gh := a.Installation(1)
	lim := gh.Client().Transport.(*rateLimitTransport).lim
	lim.block(context.Background(), KindSecondary, clock.Now().Add(3*time.Second))
	if _, _, err := gh.Issues.Get(context.Background(), "o", "r", 1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{3 * time.Second}, clock.Sleeps()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

// timeReads is a fakeClock that reports each reading of the time (buffered, one at a time).
type timeReads struct {
	*fakeClock
	read chan struct{}
}

func (c timeReads) Now() time.Time {
	now := c.fakeClock.Now()
	select {
	case c.read <- struct{}{}:
	default:
	}
	return now
}

// A request that found no wait running and queued for an in-flight slot must not leave when it
// gets the slot if, meanwhile, another request's answer opened a wait.
func TestQueuedRequestWaitsOutLimitOpenedMeanwhile(t *testing.T) {
	g := newGHServer(t)
	clock := timeReads{fakeClock: newFakeClock(), read: make(chan struct{}, 1)}
	var mu sync.Mutex
	var arrivals []time.Time
	g.handle("GET /repos/o/r/issues/1", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, clock.fakeClock.Now())
		mu.Unlock()
		writeJSON(w, 200, map[string]any{"number": 1})
	})
	a, _ := newTestApp(t, g, WithClock(clock), WithMaxInFlight(1))
	gh := a.Installation(1)
	ctx := context.Background()
	if _, _, err := gh.Issues.Get(ctx, "o", "r", 1); err != nil { // the token, fetched now
		t.Fatal(err)
	}
	lim := gh.Client().Transport.(*rateLimitTransport).lim
	lim.inFlight <- struct{}{} // another request is on its way
	select {
	case <-clock.read:
	default:
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := gh.Issues.Get(ctx, "o", "r", 1)
		done <- err
	}()
	select {
	case <-clock.read: // it found no wait running; next it queues for the slot
	case <-time.After(10 * time.Second):
		t.Fatal("the request never checked for a wait")
	}
	until := clock.fakeClock.Now().Add(5 * time.Second)
	lim.block(context.Background(), KindSecondary, until) // the other request's answer: a 429, Retry-After 5
	<-lim.inFlight
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if last := arrivals[len(arrivals)-1]; last.Before(until) {
		t.Errorf("the queued request reached GitHub at %s, inside the wait until %s", last.Format(time.TimeOnly), until.Format(time.TimeOnly))
	}
}

func TestSpentBudgetBlocksBeforeBeingRefused(t *testing.T) {
	g := newGHServer(t)
	a, clock := newTestApp(t, g)
	reset := strconv.FormatInt(clock.Now().Add(20*time.Minute).Unix(), 10)
	s := &scripted{answers: []func(http.ResponseWriter){answer(200,
		map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": reset}, `{"number":1}`)}}
	g.handle("GET /repos/o/r/issues/1", s.ServeHTTP)
	gh := a.Installation(1)
	ctx := context.Background()
	if _, _, err := gh.Issues.Get(ctx, "o", "r", 1); err != nil {
		t.Fatal(err)
	}
	// go-github's own bookkeeping or ours (whichever sees it first) refuses to send; either
	// way the classified error asks for the wait.
	_, _, err := gh.Issues.Get(ctx, "o", "r", 1)
	if _, ok := queue.RetryAfter(Classify(err)); !ok {
		t.Fatalf("second Get error = %v, want a RetryAfter error", err)
	}
	if n := len(g.calls()); n != 1 {
		t.Errorf("requests sent = %d, want 1", n)
	}
	lim := gh.Client().Transport.(*rateLimitTransport).lim
	var ra *RetryAfterError
	if err := lim.awaitClear(ctx); !errors.As(err, &ra) || ra.Wait != 20*time.Minute+time.Second {
		t.Errorf("installation not blocked until the reset: %v", err)
	}
}

func TestSecondaryWithoutRetryAfterBacksOffExponentially(t *testing.T) {
	g := newGHServer(t)
	a, clock := newTestApp(t, g)
	limit := answer(429, nil, `{"message":"You have exceeded a secondary rate limit"}`)
	s := &scripted{answers: []func(http.ResponseWriter){limit, limit, nil, limit}}
	s.answers[2] = answer(200, nil, `{}`)
	g.handle("GET /repos/o/r/issues/1", s.ServeHTTP)
	gh := a.Installation(1)
	var waits []time.Duration
	for range 4 {
		_, _, err := gh.Issues.Get(context.Background(), "o", "r", 1)
		d, _ := queue.RetryAfter(err)
		waits = append(waits, d)
		clock.Advance(d)
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 0, time.Minute}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("waits asked for (-want +got):\n%s", diff)
	}
}

func TestMutationsArePaced(t *testing.T) {
	g := newGHServer(t)
	g.handle("POST /repos/o/r/issues/1/labels", (&scripted{}).ServeHTTP)
	g.handle("GET /repos/o/r/issues/1", (&scripted{}).ServeHTTP)
	a, clock := newTestApp(t, g, WithWriteRate(60, 1))
	gh := a.Installation(1)
	ctx := context.Background()
	for range 3 {
		if _, _, err := gh.Issues.AddLabelsToIssue(ctx, "o", "r", 1, []string{"x"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := gh.Issues.Get(ctx, "o", "r", 1); err != nil { // reads are not paced
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]time.Duration{time.Second, time.Second}, clock.Sleeps()); diff != "" {
		t.Errorf("waits between writes (-want +got):\n%s", diff)
	}
}

// concurrency records how many requests the server handles at once; each waits for release.
type concurrency struct {
	cur, max atomic.Int32
	release  chan struct{}
}

func (c *concurrency) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.cur.Add(1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	<-c.release
	c.cur.Add(-1)
	if r.Method == http.MethodPost {
		writeJSON(w, 200, []any{})
		return
	}
	writeJSON(w, 200, map[string]any{"number": 1})
}

func TestConcurrencyCaps(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		call    func(gh *github.Client) error
		wantMax int32
	}{
		{name: "reads capped at max in flight", path: "GET /repos/o/r/issues/1", wantMax: 2,
			call: func(gh *github.Client) error {
				_, _, err := gh.Issues.Get(context.Background(), "o", "r", 1)
				return err
			}},
		{name: "writes serial", path: "POST /repos/o/r/issues/1/labels", wantMax: 1,
			call: func(gh *github.Client) error {
				_, _, err := gh.Issues.AddLabelsToIssue(context.Background(), "o", "r", 1, []string{"x"})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGHServer(t)
			c := &concurrency{release: make(chan struct{})}
			g.handle(tt.path, c.ServeHTTP)
			a, _ := newTestApp(t, g, WithMaxInFlight(2), WithWriteRate(6000, 100))
			gh := a.Installation(1)
			const n = 5
			errs := make(chan error, n)
			for range n {
				go func() { errs <- tt.call(gh) }()
			}
			deadline := time.Now().Add(10 * time.Second)
			for i := 0; i < n; i++ {
				for c.cur.Load() < min(tt.wantMax, int32(n-i)) { // wait until the cap is reached
					if time.Now().After(deadline) {
						t.Fatalf("only %d requests in flight", c.cur.Load())
					}
					time.Sleep(time.Millisecond) // polling a condition with a deadline
				}
				c.release <- struct{}{}
			}
			for range n {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			if got := c.max.Load(); got != tt.wantMax {
				t.Errorf("most requests at once = %d, want %d", got, tt.wantMax)
			}
		})
	}
}

func TestNotFoundRetriedOnlyWhenAsked(t *testing.T) {
	notFound := answer(404, nil, `{"message":"Not Found"}`)
	tests := []struct {
		name      string
		ctx       context.Context
		answers   []func(http.ResponseWriter)
		wantErr   bool
		wantSent  int
		wantWaits []time.Duration
	}{
		{name: "eventual consistency", ctx: withNotFoundRetry(context.Background()),
			answers: []func(http.ResponseWriter){notFound, notFound}, wantSent: 3,
			wantWaits: []time.Duration{500 * time.Millisecond, time.Second}},
		{name: "gone for good", ctx: withNotFoundRetry(context.Background()),
			answers: []func(http.ResponseWriter){notFound, notFound, notFound}, wantErr: true, wantSent: 3,
			wantWaits: []time.Duration{500 * time.Millisecond, time.Second}},
		{name: "not asked", ctx: context.Background(),
			answers: []func(http.ResponseWriter){notFound}, wantErr: true, wantSent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGHServer(t)
			g.handle("GET /repos/o/r/issues/1", (&scripted{answers: tt.answers}).ServeHTTP)
			a, clock := newTestApp(t, g)
			_, _, err := a.Installation(1).Issues.Get(tt.ctx, "o", "r", 1)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !queue.IsPermanent(Classify(err)) {
				t.Errorf("404 classified as transient: %v", err)
			}
			if n := len(g.calls()); n != tt.wantSent {
				t.Errorf("requests = %d, want %d", n, tt.wantSent)
			}
			if diff := cmp.Diff(tt.wantWaits, clock.Sleeps()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	resp := func(status int) *http.Response {
		return &http.Response{StatusCode: status, Request: &http.Request{Method: "GET", URL: mustURL("https://api.github.com/x")}}
	}
	errResp := func(status int) error {
		return &github.ErrorResponse{Response: resp(status), Message: http.StatusText(status)}
	}
	retry := 90 * time.Second
	tests := []struct {
		name          string
		give          error
		wantPermanent bool
		wantRetry     time.Duration // 0: no RetryAfter
	}{
		{name: "5xx", give: errResp(502)},
		{name: "network", give: errors.New("connection reset")},
		{name: "422", give: errResp(422), wantPermanent: true},
		{name: "404", give: errResp(404), wantPermanent: true},
		{name: "401", give: errResp(401), wantPermanent: true},
		{name: "403 not a limit", give: errResp(403), wantPermanent: true},
		{name: "410", give: errResp(410), wantPermanent: true},
		{name: "429 plain", give: errResp(429), wantRetry: time.Minute},
		{name: "go-github abuse", give: &github.AbuseRateLimitError{Response: resp(403), RetryAfter: &retry}, wantRetry: retry},
		{name: "ours", give: fmt.Errorf("x: %w", &RetryAfterError{Wait: time.Hour, Kind: KindPrimary}), wantRetry: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.give)
			if p := queue.IsPermanent(got); p != tt.wantPermanent {
				t.Errorf("queue.IsPermanent(%v) = %v, want %v", got, p, tt.wantPermanent)
			}
			d, _ := queue.RetryAfter(got)
			if d != tt.wantRetry {
				t.Errorf("RetryAfter(%v) = %s, want %s", got, d, tt.wantRetry)
			}
			if !errors.Is(got, tt.give) && !strings.Contains(got.Error(), tt.give.Error()) {
				t.Errorf("Classify lost the original error: %v", got)
			}
		})
	}
	if err := Classify(context.Canceled); err != context.Canceled {
		t.Errorf("Classify(context.Canceled) = %v", err)
	}
}

// A wait the caller's deadline would not outlive is not waited: the typed error comes at once.
func TestNoInProcessWaitPastTheDeadline(t *testing.T) {
	g := newGHServer(t)
	g.handle("GET /repos/o/r/issues/1", (&scripted{}).ServeHTTP)
	a, clock := newTestApp(t, g)
	gh := a.Installation(1)
	gh.Client().Transport.(*rateLimitTransport).lim.block(context.Background(), KindSecondary, clock.Now().Add(5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _, err := gh.Issues.Get(ctx, "o", "r", 1)
	if d, ok := queue.RetryAfter(err); !ok || d != 5*time.Second {
		t.Errorf("error = %v, want RetryAfter 5s", err)
	}
	if len(clock.Sleeps()) != 0 || len(g.calls()) != 0 {
		t.Errorf("waited %v and sent %v", clock.Sleeps(), g.calls())
	}
}
