package check

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/triagebot/triagebot/internal/ghfake"
)

// promParser is Prometheus's own PromQL parser, as a Prometheus server loading the rules uses it.
var promParser = parser.NewParser(parser.Options{})

// metricNames are the metric names an expression reads.
func metricNames(t *testing.T, where, expr string) []string {
	t.Helper()
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return nil
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	if len(names) == 0 {
		t.Errorf("%s: %q reads no metric", where, expr)
	}
	return names
}

// alertExprs parses deploy/prometheus/alerts.yaml with Prometheus's rule parser (which checks
// every expression and template) and returns its expressions by alert.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	groups, errs := rulefmt.ParseFile(filepath.Join(root(t), "deploy/prometheus/alerts.yaml"), false, model.UTF8Validation, promParser, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("alerts.yaml: %v", err)
	}
	out := map[string]string{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Annotations["runbook"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("alert %s has no summary or runbook", r.Alert)
			}
			out["alert "+r.Alert] = r.Expr
		}
	}
	return out
}

// dashboardExprs are the queries of deploy/grafana/triagebot.json, by panel.
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(readFile(t, "deploy/grafana/triagebot.json"), &dash); err != nil {
		t.Fatalf("triagebot.json: %v", err)
	}
	out := map[string]string{}
	for _, p := range dash.Panels {
		for i, tg := range p.Targets {
			out[fmt.Sprintf("panel %q query %d", p.Title, i)] = tg.Expr
		}
	}
	return out
}

// TestDashboardAndAlertsReadMetricsThatExist runs triagebot (built as the Dockerfile builds it)
// against the in-memory GitHub with a notification channel, has it handle an issue, scrapes
// its /metrics, and fails if an alert or a dashboard query names a metric it does not export.
func TestDashboardAndAlertsReadMetricsThatExist(t *testing.T) {
	alerts, panels := alertExprs(t), dashboardExprs(t)
	for _, want := range []string{"TriagebotDeadLettersGrowing", "TriagebotEventLagHigh", "TriagebotSignatureFailuresHigh", "TriagebotNotReady", "TriagebotRateLimited"} {
		if alerts["alert "+want] == "" {
			t.Errorf("alerts.yaml has no %s", want)
		}
	}
	if len(panels) < 10 {
		t.Errorf("the dashboard has %d queries", len(panels))
	}
	exported := scrapeRunningBot(t)
	var missing []string
	for _, set := range []map[string]string{alerts, panels} {
		for where, expr := range set {
			for _, name := range metricNames(t, where, expr) {
				if !exported[name] {
					missing = append(missing, fmt.Sprintf("%s reads %s", where, name))
				}
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s, which triagebot's /metrics does not have", m)
	}
}

// scrapeRunningBot returns the metric names a running pipeline exports (a histogram's
// _bucket, _sum and _count included).
func scrapeRunningBot(t *testing.T) map[string]bool {
	t.Helper()
	bin := filepath.Join(buildAsDockerfile(t), "triagebot")
	fake := ghfake.New(ghfake.WithPrefix("/api/v3/"))
	defer fake.Close()
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v3/app" { // the App itself: its bot login
			fmt.Fprintf(w, `{"id":%d,"slug":%q}`, fake.AppID(), strings.TrimSuffix(fake.BotLogin(), "[bot]"))
			return
		}
		fake.ServeHTTP(w, r)
	}))
	defer gh.Close()
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer chat.Close()
	dir := t.TempDir()
	key, cfg := filepath.Join(dir, "app.pem"), filepath.Join(dir, "triagebot.yml")
	if err := os.WriteFile(key, fake.PrivateKeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("channels:\n  ops: {type: webhook, url: "+chat.URL+"/hook, digest: 0s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{
		"TRIAGEBOT_DATA_DIR=" + filepath.Join(dir, "data"),
		"TRIAGEBOT_WEBHOOK_SECRET=check",
		"TRIAGEBOT_LISTEN=127.0.0.1:0",
		"TRIAGEBOT_ADMIN_LISTEN=off",
		fmt.Sprintf("TRIAGEBOT_APP_ID=%d", fake.AppID()),
		"TRIAGEBOT_PRIVATE_KEY_FILE=" + key,
		"TRIAGEBOT_GITHUB_URL=" + gh.URL + "/api/v3/",
		"TRIAGEBOT_CONFIG=" + cfg,
	}
	b := startBot(t, cmd)
	base := b.base(t)
	fake.SetWebhook(base+"/webhook", "check")
	const repo = "octo-org/rocket"
	if _, err := fake.InstallApp("octo-org", repo); err != nil {
		t.Fatal(err)
	}
	if err := fake.PutFile(repo, ".github/triagebot.yml", []byte("notifications:\n  routes:\n    - {on: issue_opened, to: [ops]}\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.OpenIssue(repo, "alice", "Support SSO login", "Please."); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := fake.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var body string
	poll(t, "the issue handled and its notification sent", func() bool {
		_, body = get(t, base+"/metrics")
		return strings.Contains(body, `triagebot_events_handled_total{event="issues",result="acked"}`) &&
			strings.Contains(body, `triagebot_notifications_total{result="sent",type="webhook"} 1`)
	})
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	names := map[string]bool{}
	for n, f := range fams {
		names[n] = true
		if f.GetType().String() == "HISTOGRAM" {
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		}
	}
	return names
}
