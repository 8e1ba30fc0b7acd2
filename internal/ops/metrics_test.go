package ops

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/queuetest"
	"github.com/triagebot/triagebot/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, queuetest.LeakOptions()...)
}

// busyRegistry is the registry of a worker with 16 partitions that has talked to GitHub for
// 100 installations over every route it uses.
func busyRegistry(tb testing.TB) *prometheus.Registry {
	tb.Helper()
	q, _ := queuetest.Queue(tb, queue.Config{Partitions: 16})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := NewMetrics(reg, BuildInfo{Version: "v1.0.0", Commit: "abc"}, time.Now)
	reg.MustRegister(NewQueueCollector(q.JetStream(), 16, zap.NewNop()))
	for id := int64(1); id <= 100; id++ {
		h := http.Header{}
		h.Set("X-Ratelimit-Remaining", strconv.Itoa(5000-int(id)))
		h.Set("X-Ratelimit-Limit", "5000")
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		m.GitHub.request(id, &http.Response{StatusCode: 200, Header: h})
	}
	for _, r := range routes {
		for _, method := range []string{"GET", "POST", "PATCH", "DELETE"} {
			for _, class := range []string{"2xx", "4xx"} {
				m.ghRequests.WithLabelValues(method, r, class).Inc()
			}
		}
	}
	for _, typ := range []string{"github", "webhook", "email"} {
		m.NotificationOutcome(typ, NotificationSent, 1)
		m.NotificationOutcome(typ, NotificationFailed, 0)
	}
	m.LimitWait(7, "secondary", time.Now().Add(time.Minute))
	return reg
}

func TestBusyMetricsAreLintCleanAndBounded(t *testing.T) {
	reg := busyRegistry(t)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	// 100 installations are not 100 series: the budget is one gauge.
	if n := testutil.CollectAndCount(reg, "triagebot_github_rate_limit_remaining"); n != 1 {
		t.Errorf("%d budget series, want 1", n)
	}
	if got := testutil.CollectAndCount(reg, "triagebot_queue_pending_events"); got != 16 {
		t.Errorf("%d pending series, want one per partition", got)
	}
}

// BenchmarkScrape reports the size of /metrics with 16 partitions and 100 installations
// (go test -run '^$' -bench Scrape ./internal/ops/).
func BenchmarkScrape(b *testing.B) {
	reg := busyRegistry(b)
	var size int
	for b.Loop() {
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				b.Fatal(err)
			}
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes/scrape")
}
