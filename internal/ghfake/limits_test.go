package ghfake

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type limitFixture struct {
	fake *Server
	clk  *clock
	url  string
	tok  string
}

func newLimitFixture(t *testing.T, opts ...Option) *limitFixture {
	t.Helper()
	clk := newClock()
	fake := New(append([]Option{WithClock(clk.Now), WithTokenTTL(24 * time.Hour), WithInstallation(7, "octo", "octo/hello")}, opts...)...)
	t.Cleanup(fake.Close)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	if _, err := fake.OpenIssue("octo/hello", "alice", "t", "b"); err != nil {
		t.Fatal(err)
	}
	if err := fake.PutFile("octo/hello", "README.md", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	tok, _, err := fake.NewInstallationToken(7)
	if err != nil {
		t.Fatal(err)
	}
	return &limitFixture{fake: fake, clk: clk, url: srv.URL, tok: tok}
}

type limited struct {
	Status                 int
	Limit, Remaining, Used string
	Reset                  int64
	Resource               string
	RetryAfter             string
}

func (f *limitFixture) get(t *testing.T, path string, header ...string) limited {
	t.Helper()
	req, err := http.NewRequest("GET", f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+f.tok)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	reset, _ := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	return limited{resp.StatusCode, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Used"),
		reset, h.Get("X-RateLimit-Resource"), h.Get("Retry-After")}
}

func TestPrimaryRateLimit(t *testing.T) {
	f := newLimitFixture(t, WithRateLimit(3))
	start := f.clk.Now()
	reset := start.Add(time.Hour).Unix()
	row := func(status int, remaining, used string) limited {
		return limited{Status: status, Limit: "3", Remaining: remaining, Used: used, Reset: reset, Resource: "core"}
	}
	etag := ""
	tests := []struct {
		name    string
		advance time.Duration
		path    string
		header  []string
		want    limited
	}{
		{name: "first", path: "/repos/octo/hello/issues/1", want: row(200, "2", "1")},
		{name: "404 costs too", path: "/repos/octo/hello/issues/9", want: row(404, "1", "2")},
		{name: "rate_limit is free", path: "/rate_limit", want: row(200, "1", "2")},
		{name: "conditional read", path: "/repos/octo/hello/contents/README.md", want: row(200, "0", "3")},
		{name: "304 is free", path: "/repos/octo/hello/contents/README.md", header: []string{"If-None-Match", "etag"}, want: row(403, "0", "3")},
		{name: "exhausted", path: "/repos/octo/hello/issues/1", want: row(403, "0", "3")},
		{name: "after reset", advance: time.Hour, path: "/repos/octo/hello/issues/1", want: limited{Status: 200, Limit: "3", Remaining: "2", Used: "1",
			Reset: start.Add(2 * time.Hour).Unix(), Resource: "core"}},
		{name: "304 refunds", path: "/repos/octo/hello/contents/README.md", header: []string{"If-None-Match", "etag"}, want: limited{Status: 304, Limit: "3", Remaining: "2", Used: "1",
			Reset: start.Add(2 * time.Hour).Unix(), Resource: "core"}},
	}
	for _, tt := range tests {
		f.clk.Advance(tt.advance)
		if len(tt.header) == 2 && tt.header[1] == "etag" {
			tt.header = []string{"If-None-Match", etag}
		}
		got := f.get(t, tt.path, tt.header...)
		if tt.name == "conditional read" {
			etag = `W/"` + blobSHA([]byte("hi")) + `"`
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	// Two requests arrived while exhausted: the 304 attempt and "exhausted".
	var reasons []string
	for _, v := range f.fake.Violations() {
		reasons = append(reasons, v.Reason+" "+v.Path)
	}
	want := []string{
		"primary rate limit exhausted /repos/octo/hello/contents/README.md",
		"primary rate limit exhausted /repos/octo/hello/issues/1",
	}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

func TestSecondaryRateLimit(t *testing.T) {
	for _, status := range []int{403, 429} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newLimitFixture(t)
			if err := f.fake.InjectSecondaryLimit(2, status, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			type step struct {
				Status     int
				RetryAfter string
				Violations int
			}
			var got []step
			for _, advance := range []time.Duration{0, 0, 31 * time.Second, 0} {
				f.clk.Advance(advance)
				r := f.get(t, "/repos/octo/hello/issues/1")
				got = append(got, step{r.Status, r.RetryAfter, len(f.fake.Violations())})
			}
			// The second request came inside the first one's Retry-After window.
			want := []step{{status, "30", 0}, {status, "30", 1}, {200, "", 1}, {200, "", 1}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestExhaustRateLimit: the request that finds the budget spent behind the client's back is
// refused but is no violation (nothing told the client); the ones after that answer are,
// until the reset.
func TestExhaustRateLimit(t *testing.T) {
	f := newLimitFixture(t)
	f.get(t, "/repos/octo/hello/issues/1")
	f.fake.ExhaustRateLimit(7)
	var got []string
	for _, advance := range []time.Duration{0, 0, time.Hour} {
		f.clk.Advance(advance)
		r := f.get(t, "/repos/octo/hello/issues/1")
		got = append(got, strconv.Itoa(r.Status)+" remaining="+r.Remaining+" violations="+strconv.Itoa(len(f.fake.Violations())))
	}
	want := []string{"403 remaining=0 violations=0", "403 remaining=0 violations=1", "200 remaining=4999 violations=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSecondaryRateLimitWithoutRetryAfter(t *testing.T) {
	f := newLimitFixture(t)
	if err := f.fake.InjectSecondaryLimit(1, 403, 0); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, advance := range []time.Duration{0, 59 * time.Second, time.Second} {
		f.clk.Advance(advance)
		r := f.get(t, "/repos/octo/hello/issues/1")
		got = append(got, strconv.Itoa(r.Status)+" retry-after="+r.RetryAfter+" violations="+strconv.Itoa(len(f.fake.Violations())))
	}
	want := []string{"403 retry-after= violations=0", "200 retry-after= violations=1", "200 retry-after= violations=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestServerErrorsDeterministic(t *testing.T) {
	run := func() []int {
		f := newLimitFixture(t, WithFaults(Faults{ErrorRate: 0.3, Seed: 7}))
		var codes []int
		for range 200 {
			codes = append(codes, f.get(t, "/repos/octo/hello/issues/1").Status)
		}
		return codes
	}
	first, second := run(), run()
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("same seed, different faults (-first +second):\n%s", diff)
	}
	count := map[int]int{}
	for _, c := range first {
		count[c]++
	}
	if failed := count[500] + count[502]; failed < 40 || failed > 80 || count[500] == 0 || count[502] == 0 || failed+count[200] != 200 {
		t.Errorf("30%% of 200 requests should fail with 500 or 502: %v", count)
	}
}

func TestFaultValidation(t *testing.T) {
	fake := New()
	defer fake.Close()
	for _, f := range []Faults{{ErrorRate: -0.1}, {ErrorRate: 1.5}, {Latency: -time.Second}} {
		if err := fake.SetFaults(f); err == nil {
			t.Errorf("SetFaults(%+v) accepted", f)
		}
	}
	if err := fake.InjectSecondaryLimit(1, 500, time.Minute); err == nil {
		t.Error("secondary limit with status 500 accepted")
	}
}

func TestRequestLog(t *testing.T) {
	f := newLimitFixture(t)
	etag := `W/"` + blobSHA([]byte("hi")) + `"`
	f.get(t, "/repos/octo/hello/issues/1")
	f.get(t, "/repos/octo/hello/issues/1")
	f.get(t, "/repos/octo/hello/contents/README.md", "If-None-Match", etag)
	f.get(t, "/nope")
	req, _ := http.NewRequest("POST", f.url+"/repos/octo/hello/issues/1/comments", stringsReader(`{"body":"x"}`))
	req.Header.Set("Authorization", "token "+f.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := RequestStats{Total: 5, Reads: 3, Writes: 1, NotModified: 1, ByEndpoint: map[string]int{
		"GET /repos/{owner}/{repo}/issues/{issue_number}": 2,
		"GET /repos/{owner}/{repo}/contents/{path}":       1,
		"GET (unknown)": 1,
		"POST /repos/{owner}/{repo}/issues/{issue_number}/comments": 1,
	}}
	if diff := cmp.Diff(want, f.fake.RequestStats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	f.fake.ResetRequests()
	if diff := cmp.Diff(RequestStats{ByEndpoint: map[string]int{}}, f.fake.RequestStats()); diff != "" {
		t.Errorf("after reset (-want +got):\n%s", diff)
	}
}

// TestAppliedErrors checks that a write can take effect although its answer is a 5xx, the
// case that makes a retrying client post twice unless it is idempotent.
func TestAppliedErrors(t *testing.T) {
	f := newLimitFixture(t, WithFaults(Faults{ErrorRate: 1, AppliedErrorRate: 1, Seed: 3}))
	req, _ := http.NewRequest("POST", f.url+"/repos/octo/hello/issues/1/comments", stringsReader(`{"body":"once"}`))
	req.Header.Set("Authorization", "token "+f.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 500 {
		t.Fatalf("status %d, want 5xx", resp.StatusCode)
	}
	if got := f.fake.Comments("octo/hello", 1); len(got) != 1 || got[0].Body != "once" {
		t.Errorf("comments after an applied error: %+v", got)
	}
	if err := f.fake.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, "/repos/octo/hello/issues/1"); got.Status != 200 {
		t.Errorf("after clearing faults: %d", got.Status)
	}
}

// TestRateHeadersOnEveryResponse covers answers that no installation is charged for.
func TestRateHeadersOnEveryResponse(t *testing.T) {
	f := newLimitFixture(t)
	f.tok = "ghs_unknown"
	got := f.get(t, "/repos/octo/hello/issues/1")
	want := limited{Status: 401, Limit: "60", Remaining: "60", Used: "0", Reset: f.clk.Now().Add(time.Hour).Unix(), Resource: "core"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bad credentials (-want +got):\n%s", diff)
	}
	want.Status = 404
	if diff := cmp.Diff(want, f.get(t, "/no/such/route")); diff != "" {
		t.Errorf("unknown route (-want +got):\n%s", diff)
	}
}

func TestConcurrency(t *testing.T) {
	f := newLimitFixture(t)
	for range 5 {
		f.get(t, "/repos/octo/hello/issues/1")
	}
	if r, w := f.fake.Concurrency(7); r != 1 || w != 0 {
		t.Errorf("serial reads: concurrency %d, writes %d; want 1, 0", r, w)
	}
	if err := f.fake.SetFaults(Faults{Latency: time.Hour}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	for range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			req, _ := http.NewRequest("POST", f.url+"/repos/octo/hello/issues/1/labels", stringsReader(`["x"]`))
			req.Header.Set("Authorization", "token "+f.tok)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	ctx := testCtx(t)
	if err := f.fake.Wait(ctx, func() bool { r, _ := f.fake.Concurrency(7); return r == 2 }); err != nil {
		t.Fatal(err)
	}
	if _, w := f.fake.Concurrency(7); w != 2 {
		t.Errorf("overlapping writes: %d, want 2", w)
	}
	f.fake.Close() // ends the latency
	<-done
	<-done
}
