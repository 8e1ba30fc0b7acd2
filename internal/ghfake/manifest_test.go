package ghfake

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

const testManifest = `{"name":"triagebot","url":"https://github.com/triagebot/triagebot",
 "hook_attributes":{"url":"https://bot.example.org/webhook"},"redirect_url":"http://127.0.0.1:9/callback",
 "public":false,"default_permissions":{"issues":"write","metadata":"read"},"default_events":["issues","issue_comment"]}`

// manifestCode goes through the web side of the flow as a browser would: post the manifest,
// confirm the name, follow the redirect; it returns the redirect's query.
func manifestCode(t *testing.T, fake *Server, path, manifest string) url.Values {
	t.Helper()
	web := fake.Web()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", path, strings.NewReader(url.Values{"manifest": {manifest}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	web.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `id="create"`) {
		t.Fatalf("form: %d %s", rec.Code, rec.Body.String())
	}
	q, _ := url.Parse(path)
	owner := ManifestUser
	if strings.HasPrefix(path, "/organizations/") {
		owner = strings.Split(path, "/")[2]
	}
	rec = httptest.NewRecorder()
	form := url.Values{"manifest": {manifest}, "state": {q.Query().Get("state")}, "name": {"my triagebot"}, "owner": {owner}}
	req = httptest.NewRequest("POST", "/settings/apps/new/confirm", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	web.ServeHTTP(rec, req)
	if rec.Code != http.StatusFound {
		t.Fatalf("confirm: %d %s", rec.Code, rec.Body.String())
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Host != "127.0.0.1:9" || loc.Path != "/callback" {
		t.Fatalf("redirect to %q", rec.Header().Get("Location"))
	}
	return loc.Query()
}

func TestManifestFlow(t *testing.T) {
	clk := newClock()
	fake := New(WithPrefix("/api/v3/"), WithClock(clk.Now))
	defer fake.Close()
	v := newValidator(t, "/api/v3/")
	srv := httptest.NewServer(v.wrap(fake))
	defer srv.Close()
	gh, err := github.NewClient(nil).WithEnterpriseURLs(srv.URL+"/api/v3/", srv.URL+"/api/uploads/")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	q := manifestCode(t, fake, "/organizations/octo-org/settings/apps/new?state=s1", testManifest)
	if q.Get("state") != "s1" || q.Get("code") == "" {
		t.Fatalf("redirect query %v", q)
	}
	cfg, r, err := gh.Apps.CompleteAppManifest(ctx, q.Get("code"))
	if err != nil || r.StatusCode != 201 {
		t.Fatalf("conversion: %v %v", r, err)
	}
	if cfg.GetID() != fake.AppID() || cfg.GetPEM() != string(fake.PrivateKeyPEM()) || cfg.GetWebhookSecret() == "" ||
		cfg.GetName() != "my triagebot" || cfg.GetOwner().GetLogin() != "octo-org" || cfg.GetSlug() != DefaultAppSlug {
		t.Fatalf("app %+v", cfg)
	}
	if u, secret := fake.Webhook(); u != "https://bot.example.org/webhook" || secret != cfg.GetWebhookSecret() {
		t.Fatalf("webhook %q %q", u, secret)
	}
	if _, r, _ := gh.Apps.CompleteAppManifest(ctx, q.Get("code")); r == nil || r.StatusCode != 404 {
		t.Fatalf("code used twice: %v", r)
	}
	if _, r, _ := gh.Apps.CompleteAppManifest(ctx, "nope"); r == nil || r.StatusCode != 404 {
		t.Fatalf("unknown code: %v", r)
	}
	q = manifestCode(t, fake, "/settings/apps/new", testManifest)
	if _, ok := q["state"]; ok {
		t.Fatalf("state without one posted: %v", q)
	}
	clk.Advance(ManifestCodeTTL + time.Second)
	if _, r, _ := gh.Apps.CompleteAppManifest(ctx, q.Get("code")); r == nil || r.StatusCode != 422 {
		t.Fatalf("expired code: %v", r)
	}
	if apps := fake.RegisteredApps(); len(apps) != 2 || apps[0].Owner != "octo-org" || apps[1].Owner != ManifestUser || !apps[0].Used || apps[1].Used {
		t.Fatalf("registrations %+v", apps)
	}
	v.check(t)
}

func TestManifestFormRefusesABadManifest(t *testing.T) {
	fake := New()
	defer fake.Close()
	for _, give := range []string{"", "{", `{"url":"https://x.example"}`, `{"url":"https://x.example","hook_attributes":{"url":"https://h.example"}}`,
		`{"url":"ftp://x","hook_attributes":{"url":"https://h.example"},"redirect_url":"http://127.0.0.1/"}`} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/settings/apps/new", strings.NewReader(url.Values{"manifest": {give}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		fake.Web().ServeHTTP(rec, req)
		if rec.Code != http.StatusUnprocessableEntity || !strings.HasPrefix(rec.Body.String(), "Invalid GitHub App configuration: ") {
			t.Errorf("%q: %d %s", give, rec.Code, rec.Body.String())
		}
	}
}
