package main

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeFamilies reads a running bot's /metrics.
func scrapeFamilies(t *testing.T, addr string) (string, map[string]bool) {
	t.Helper()
	code, body := get(t, "http://"+addr+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	names := map[string]bool{}
	for n := range fams {
		names[n] = true
	}
	return body, names
}

func TestMetricsOfAPipelineAreLintCleanAndBounded(t *testing.T) {
	l, _ := startLocalT(t, localConfig{})
	const repo = "octo-org/rocket"
	if _, err := l.Fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Fake.OpenIssue(repo, "alice", "Support SSO login", "Please."); err != nil {
		t.Fatal(err)
	}
	settle(t, l)
	body, names := scrapeFamilies(t, l.App.addr)

	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "triagebot_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	for _, want := range []string{
		"triagebot_github_requests_total", "triagebot_github_rate_limit_waits_total",
		"triagebot_github_rate_limit_remaining", "triagebot_github_rate_limited_installations",
		"triagebot_queue_pending_events", "triagebot_queue_oldest_pending_age_seconds", "triagebot_queue_redelivered_events",
		"triagebot_dead_letters", "triagebot_stream_messages", "triagebot_stream_bytes", "triagebot_queue_scrape_error",
		"triagebot_event_lag_seconds", "triagebot_redeliveries_requested_total", "triagebot_config_load_failures_total",
		"triagebot_build_info", "triagebot_ready",
	} {
		if !names[want] {
			t.Errorf("/metrics has no %s", want)
		}
	}
	for _, want := range []string{
		`triagebot_github_requests_total{method="POST",route="/repos/{owner}/{repo}/issues/{issue_number}/labels",status_class="2xx"}`,
		`triagebot_github_requests_total{method="POST",route="/app/installations/{installation_id}/access_tokens",status_class="2xx"}`,
		`triagebot_queue_pending_events{partition="15"} 0`,
		`triagebot_dead_letters{queue="events"} 0`,
		`triagebot_event_lag_seconds_count`,
		`triagebot_ready 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Bounded labels: no repository, user or issue text ever becomes a label value.
	for _, leak := range []string{"octo-org", "rocket", "alice", "SSO"} {
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "triagebot_") && strings.Contains(line, leak) {
				t.Errorf("a label carries %q: %s", leak, line)
			}
		}
	}
}
