package ops

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BuildInfo is the version stamped into the binary (-ldflags -X, see deploy/Dockerfile).
type BuildInfo struct {
	Version string
	Commit  string
}

// Notification results counted by NotificationOutcome.
const (
	NotificationSent   = "sent"
	NotificationFailed = "failed"
)

// Configuration load failures counted by ConfigFailure.
const (
	ConfigBroken     = "broken"     // a .github/triagebot.yml that does not parse (last good one used)
	ConfigUnreadable = "unreadable" // GitHub did not give the file and nothing was cached
)

// Metrics are triagebot's own series beyond the receiver's and the workers' counters. Every
// label takes values from a closed set.
type Metrics struct {
	GitHub *GitHubStats

	ghRequests     *prometheus.CounterVec
	limitWaits     *prometheus.CounterVec
	lag            prometheus.Histogram
	redeliveries   prometheus.Counter
	notifications  *prometheus.CounterVec
	configFailures *prometheus.CounterVec
}

// NewMetrics registers the series on reg. now is the clock of the GitHub accounting.
func NewMetrics(reg prometheus.Registerer, build BuildInfo, now func() time.Time) *Metrics {
	m := &Metrics{
		GitHub: newGitHubStats(now),
		ghRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triagebot_github_requests_total",
			Help: "Requests sent to GitHub's REST API, by method, route template and status class (2xx, 3xx, 4xx, 5xx, error).",
		}, []string{"method", "route", "status_class"}),
		limitWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triagebot_github_rate_limit_waits_total",
			Help: "Rate-limit waits GitHub asked for, by kind (primary, secondary).",
		}, []string{"kind"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "triagebot_event_lag_seconds",
			Help:    "Time from a delivery being stored (GitHub's delivery) to the event being handled.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600},
		}),
		redeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "triagebot_redeliveries_requested_total",
			Help: "Redeliveries of failed deliveries asked of GitHub.",
		}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triagebot_notifications_total",
			Help: "Notification sends, by channel type (github, webhook, email) and result (sent, failed).",
		}, []string{"type", "result"}),
		configFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triagebot_config_load_failures_total",
			Help: "Events whose repository configuration was broken (the last good one was used) or unreadable (retried).",
		}, []string{"reason"}),
	}
	for _, k := range []string{"primary", "secondary"} {
		m.limitWaits.WithLabelValues(k)
	}
	for _, r := range []string{ConfigBroken, ConfigUnreadable} {
		m.configFailures.WithLabelValues(r)
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "triagebot_build_info",
		Help:        "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": orUnknown(build.Version), "commit": orUnknown(build.Commit), "goversion": runtime.Version()},
	})
	buildInfo.Set(1)
	reg.MustRegister(m.ghRequests, m.limitWaits, m.lag, m.redeliveries, m.notifications, m.configFailures, buildInfo,
		githubCollector{m.GitHub})
	return m
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// EventHandled records the lag of an event handled now that was stored at stored.
func (m *Metrics) EventHandled(stored time.Time) {
	if !stored.IsZero() {
		m.lag.Observe(max(time.Since(stored), 0).Seconds())
	}
}

// Redelivered counts n redeliveries asked of GitHub (the redeliver command, the reconciler).
func (m *Metrics) Redelivered(n int) { m.redeliveries.Add(float64(n)) }

// NotificationOutcome counts n notifications of a channel type sent or failed.
func (m *Metrics) NotificationOutcome(channelType, result string, n int) {
	m.notifications.WithLabelValues(channelType, result).Add(float64(n))
}

// ConfigFailure counts one configuration load failure (ConfigBroken, ConfigUnreadable).
func (m *Metrics) ConfigFailure(reason string) { m.configFailures.WithLabelValues(reason).Inc() }

// LimitWait counts a rate-limit wait and remembers it for the status page.
func (m *Metrics) LimitWait(installationID int64, kind string, until time.Time) {
	m.limitWaits.WithLabelValues(kind).Inc()
	m.GitHub.limited(installationID, kind, until)
}

// githubCollector turns the GitHub accounting into gauges at scrape time.
type githubCollector struct{ s *GitHubStats }

var (
	remainingDesc = prometheus.NewDesc("triagebot_github_rate_limit_remaining",
		"Lowest remaining primary rate-limit budget over the installations seen in the last hour (x-ratelimit-remaining).", nil, nil)
	limitedDesc = prometheus.NewDesc("triagebot_github_rate_limited_installations",
		"Installations waiting for a rate limit now, by kind.", []string{"kind"}, nil)
)

func (c githubCollector) Describe(ch chan<- *prometheus.Desc) { ch <- remainingDesc; ch <- limitedDesc }

func (c githubCollector) Collect(ch chan<- prometheus.Metric) {
	sum := c.s.Summary(0)
	if sum.MinRemaining >= 0 {
		ch <- prometheus.MustNewConstMetric(remainingDesc, prometheus.GaugeValue, float64(sum.MinRemaining))
	}
	ch <- prometheus.MustNewConstMetric(limitedDesc, prometheus.GaugeValue, float64(sum.LimitedPrimary), "primary")
	ch <- prometheus.MustNewConstMetric(limitedDesc, prometheus.GaugeValue, float64(sum.LimitedSecondary), "secondary")
}
