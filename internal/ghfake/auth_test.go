package ghfake

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

type authResult struct {
	Status  int
	Message string
}

func doAuth(t *testing.T, method, url, auth string) authResult {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Message string `json:"message"`
	}
	if resp.StatusCode >= 400 {
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("error body is not JSON: %v", err)
		}
	}
	return authResult{resp.StatusCode, body.Message}
}

func TestAppJWT(t *testing.T) {
	clk := newClock()
	fake := New(WithApp(42, "triagebot"), WithClock(clk.Now), WithInstallation(7, "octo", "octo/hello"))
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	now := clk.Now()
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := fake.NewInstallationToken(7)
	const undecodable = "A JSON web token could not be decoded"
	tests := []struct {
		name string
		give string
		want authResult
	}{
		{"valid", "Bearer " + appJWT(t, fake, "42", now.Add(-30*time.Second), now.Add(9*time.Minute)), authResult{201, ""}},
		{"numeric issuer", "Bearer " + appJWT(t, fake, 42, now.Add(-30*time.Second), now.Add(9*time.Minute)), authResult{201, ""}},
		{"iat 60s back, exp 10m ahead", "Bearer " + appJWT(t, fake, "42", now.Add(-60*time.Second), now.Add(10*time.Minute)), authResult{201, ""}},
		{"iat within clock drift", "Bearer " + appJWT(t, fake, "42", now.Add(30*time.Second), now.Add(5*time.Minute)), authResult{201, ""}},
		{"iat beyond clock drift", "Bearer " + appJWT(t, fake, "42", now.Add(2*time.Minute), now.Add(5*time.Minute)),
			authResult{401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."}},
		{"expired", "Bearer " + appJWT(t, fake, "42", now.Add(-10*time.Minute), now.Add(-time.Second)),
			authResult{401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires."}},
		{"exp too far", "Bearer " + appJWT(t, fake, "42", now, now.Add(20*time.Minute)),
			authResult{401, "'Expiration time' claim ('exp') is too far in the future."}},
		{"wrong issuer", "Bearer " + appJWT(t, fake, "43", now, now.Add(5*time.Minute)),
			authResult{401, "'Issuer' claim ('iss') must be an Integer, the App ID 42"}},
		{"other key", "Bearer " + signJWT(t, otherKey, jwt.MapClaims{"iss": "42", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}),
			authResult{401, undecodable}},
		{"HS256", "Bearer " + func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "42", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}).SignedString([]byte("k"))
			return s
		}(), authResult{401, undecodable}},
		{"no iat", "Bearer " + signJWT(t, mustKey(t, fake), jwt.MapClaims{"iss": "42", "exp": now.Add(time.Minute).Unix()}),
			authResult{401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."}},
		{"missing", "", authResult{401, undecodable}},
		{"installation token", "token " + tok, authResult{401, undecodable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := doAuth(t, "POST", srv.URL+"/app/installations/7/access_tokens", tt.give)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func mustKey(t *testing.T, s *Server) *rsa.PrivateKey {
	key, err := jwt.ParseRSAPrivateKeyFromPEM(s.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestWithAppPublicKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fake := New(WithApp(5, "bot"), WithAppPublicKey(&key.PublicKey), WithInstallation(7, "octo", "octo/hello"))
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	if fake.PrivateKeyPEM() != nil {
		t.Error("PrivateKeyPEM with a caller's key should be nil")
	}
	now := time.Now()
	got := doAuth(t, "POST", srv.URL+"/app/installations/7/access_tokens",
		"Bearer "+signJWT(t, key, jwt.MapClaims{"iss": "5", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}))
	if got.Status != 201 {
		t.Errorf("got %+v", got)
	}
}

func TestInstallationTokens(t *testing.T) {
	clk := newClock()
	fake := New(WithClock(clk.Now), WithTokenTTL(10*time.Minute), WithInstallation(7, "octo", "octo/hello"),
		WithInstallation(8, "other", "other/repo"))
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	if _, err := fake.OpenIssue("octo/hello", "alice", "t", "b"); err != nil {
		t.Fatal(err)
	}
	tok, exp, err := fake.NewInstallationToken(7)
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Add(10 * time.Minute); !exp.Equal(want) {
		t.Errorf("expires %v, want %v", exp, want)
	}
	url := srv.URL + "/repos/octo/hello/issues/1"
	tests := []struct {
		name    string
		advance time.Duration
		expire  bool
		give    string
		url     string
		want    authResult
	}{
		{name: "token scheme", give: "token " + tok, want: authResult{200, ""}},
		{name: "bearer scheme", give: "Bearer " + tok, want: authResult{200, ""}},
		{name: "unknown token", give: "token ghs_x", want: authResult{401, "Bad credentials"}},
		{name: "basic", give: "Basic eDp5", want: authResult{401, "Bad credentials"}},
		{name: "no header", want: authResult{401, "Requires authentication"}},
		{name: "other installation's repository", give: "token " + tok, url: srv.URL + "/repos/other/repo/issues/1", want: authResult{404, "Not Found"}},
		{name: "unknown repository", give: "token " + tok, url: srv.URL + "/repos/octo/nope/issues/1", want: authResult{404, "Not Found"}},
		{name: "just before expiry", advance: 10*time.Minute - time.Second, give: "token " + tok, want: authResult{200, ""}},
		{name: "at expiry", advance: time.Second, give: "token " + tok, want: authResult{401, "Bad credentials"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.Advance(tt.advance)
			u := url
			if tt.url != "" {
				u = tt.url
			}
			if diff := cmp.Diff(tt.want, doAuth(t, "GET", u, tt.give)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	fresh, _, _ := fake.NewInstallationToken(7)
	if got := doAuth(t, "GET", url, "token "+fresh); got.Status != 200 {
		t.Fatalf("fresh token: %+v", got)
	}
	fake.ExpireTokens()
	if diff := cmp.Diff(authResult{401, "Bad credentials"}, doAuth(t, "GET", url, "token "+fresh)); diff != "" {
		t.Errorf("after ExpireTokens (-want +got):\n%s", diff)
	}
}

// TestGHInstallation uses the fake the way the bot does: ghinstallation against a GHES prefix.
func TestGHInstallation(t *testing.T) {
	fake := New(WithPrefix("/api/v3/"), WithApp(42, "triagebot"), WithInstallation(7, "octo", "octo/hello"))
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	if _, err := fake.OpenIssue("octo/hello", "alice", "t", "b"); err != nil {
		t.Fatal(err)
	}
	itr, err := ghinstallation.New(http.DefaultTransport, fake.AppID(), 7, fake.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = srv.URL + "/api/v3"
	gh, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(srv.URL+"/api/v3/", srv.URL+"/api/v3/")
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if _, _, err := gh.Issues.AddLabelsToIssue(ctx, "octo", "hello", 1, []string{"needs-triage"}); err != nil {
		t.Fatal(err)
	}
	is, _ := fake.Issue("octo/hello", 1)
	if diff := cmp.Diff([]string{"needs-triage"}, is.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	stats := fake.RequestStats()
	want := map[string]int{
		"POST /app/installations/{installation_id}/access_tokens": 1,
		"POST /repos/{owner}/{repo}/issues/{issue_number}/labels": 1,
	}
	if diff := cmp.Diff(want, stats.ByEndpoint); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
}

func TestWithAppPrivateKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	fake := New(WithApp(5, "bot"), WithAppPrivateKey(key), WithInstallation(7, "octo", "octo/hello"))
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	parsed, err := jwt.ParseRSAPrivateKeyFromPEM(fake.PrivateKeyPEM())
	if err != nil || !parsed.Equal(key) {
		t.Fatalf("PrivateKeyPEM does not hold the given key: %v", err)
	}
	got := doAuth(t, "POST", srv.URL+"/app/installations/7/access_tokens", "Bearer "+appJWT(t, fake, "5", time.Now(), time.Now().Add(time.Minute)))
	if got.Status != 201 {
		t.Errorf("got %+v", got)
	}
}
