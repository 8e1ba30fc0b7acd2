package ghapp

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/queue"
)

func TestNewRejectsBadSettings(t *testing.T) {
	key := testKey(t)
	tests := []struct {
		name string
		give Config
		opts []Option
		want string
	}{
		{name: "no app id", give: Config{PrivateKeyPEM: key}, want: "App ID"},
		{name: "no key", give: Config{AppID: 1}, want: "private key is required"},
		{name: "bad key", give: Config{AppID: 1, PrivateKeyPEM: []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")}, want: "private key"},
		{name: "bad url", give: Config{AppID: 1, PrivateKeyPEM: key, BaseURL: "api.github.com"}, want: "GitHub URL"},
		{name: "bad option", give: Config{AppID: 1, PrivateKeyPEM: key}, opts: []Option{WithMaxInFlight(0)}, want: "max in flight"},
		{name: "bad rate", give: Config{AppID: 1, PrivateKeyPEM: key}, opts: []Option{WithWriteRate(0, 1)}, want: "write rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.give, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() error = %v, want one mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "AAAA") {
				t.Errorf("error shows key material: %v", err)
			}
		})
	}
}

func TestParseBaseURL(t *testing.T) {
	tests := []struct{ give, want string }{
		{"", "https://api.github.com/"},
		{"https://api.github.com", "https://api.github.com/"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/"},
	}
	for _, tt := range tests {
		u, err := parseBaseURL(tt.give)
		if err != nil {
			t.Fatalf("parseBaseURL(%q): %v", tt.give, err)
		}
		if u.String() != tt.want {
			t.Errorf("parseBaseURL(%q) = %q, want %q", tt.give, u, tt.want)
		}
	}
}

// Both the App's endpoints (JWT) and the installation's (token) live under a GHES path prefix.
func TestAppAndInstallationUnderEnterprisePrefix(t *testing.T) {
	g := newGHServer(t)
	g.handle("GET /app", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"id": 42, "slug": "triage-bot"})
	})
	g.handle("GET /repos/o/r/issues/1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"number": 1})
	})
	a, err := New(Config{AppID: 42, PrivateKeyPEM: testKey(t), BaseURL: g.baseURL()}, WithClock(newFakeClock()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	ctx := context.Background()
	login, err := a.BotLogin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if login != "triage-bot[bot]" {
		t.Errorf("BotLogin = %q", login)
	}
	if _, err := a.BotLogin(ctx); err != nil { // cached: no second GET /app
		t.Fatal(err)
	}
	if _, _, err := a.Installation(7).Issues.Get(ctx, "o", "r", 1); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range g.all() {
		got = append(got, r.Method+" "+r.Path)
		switch {
		case r.Path == "/app" || strings.HasSuffix(r.Path, "/access_tokens"):
			checkJWT(t, r.Auth)
		default:
			if r.Auth != "token ghs_7_1" {
				t.Errorf("%s sent Authorization %q, want the installation token", r.Path, r.Auth)
			}
		}
	}
	want := []string{"GET /app", "POST /app/installations/7/access_tokens", "GET /repos/o/r/issues/1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func checkJWT(t *testing.T, auth string) {
	t.Helper()
	raw, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		t.Errorf("Authorization %q, want a Bearer JWT", auth)
		return
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
		if tok.Method.Alg() != "RS256" {
			t.Errorf("JWT alg %s, want RS256", tok.Method.Alg())
		}
		return &key.PublicKey, nil
	})
	if err != nil || !tok.Valid {
		t.Errorf("JWT invalid: %v", err)
		return
	}
	if claims.Issuer != "42" {
		t.Errorf("JWT issuer %q, want the App ID", claims.Issuer)
	}
}

// ghinstallation refreshes a token a minute before it expires: a token that expires in 30 s is
// replaced before the next request; one that lasts an hour is reused.
func TestInstallationTokenRefreshedBeforeExpiry(t *testing.T) {
	g := newGHServer(t)
	g.handle("GET /repos/o/r/issues/1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"number": 1})
	})
	a, _ := newTestApp(t, g)
	gh := a.Installation(9)
	ctx := context.Background()
	g.tokenTTL = 30 * time.Second
	for range 2 {
		if _, _, err := gh.Issues.Get(ctx, "o", "r", 1); err != nil {
			t.Fatal(err)
		}
	}
	g.mu.Lock()
	g.tokenTTL = time.Hour
	g.mu.Unlock()
	for range 3 {
		if _, _, err := gh.Issues.Get(ctx, "o", "r", 1); err != nil {
			t.Fatal(err)
		}
	}
	var auths []string
	for _, r := range g.all() {
		if r.Method == http.MethodGet {
			auths = append(auths, r.Auth)
		}
	}
	want := []string{"token ghs_9_1", "token ghs_9_2", "token ghs_9_3", "token ghs_9_3", "token ghs_9_3"}
	if diff := cmp.Diff(want, auths); diff != "" {
		t.Errorf("tokens used (-want +got):\n%s", diff)
	}
	if n := g.tokenCount(); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
}

// GitHub may refuse a token ghinstallation still believes valid (clock skew, revocation): the
// token is replaced and the request sent again, once; a fresh token refused too is an error.
func TestInstallationTokenRefusedIsReplaced(t *testing.T) {
	tests := []struct {
		name       string
		refuse     func(auth string) bool
		wantErr    bool
		wantTokens int
		wantAuths  []string
	}{
		{name: "first token refused", refuse: func(auth string) bool { return auth == "token ghs_9_1" },
			wantTokens: 2, wantAuths: []string{"token ghs_9_1", "token ghs_9_2", "token ghs_9_2"}},
		{name: "every token refused", refuse: func(string) bool { return true },
			wantErr: true, wantTokens: 2, wantAuths: []string{"token ghs_9_1", "token ghs_9_2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGHServer(t)
			g.handle("POST /repos/o/r/issues/1/labels", func(w http.ResponseWriter, r *http.Request) {
				if tt.refuse(r.Header.Get("Authorization")) {
					writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials"})
					return
				}
				writeJSON(w, http.StatusOK, []any{})
			})
			a, _ := newTestApp(t, g)
			gh := a.Installation(9)
			_, _, err := gh.Issues.AddLabelsToIssue(context.Background(), "o", "r", 1, []string{"bug"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if !queue.IsPermanent(Classify(err)) {
					t.Errorf("%v is not permanent", err)
				}
			} else if _, _, err := gh.Issues.AddLabelsToIssue(context.Background(), "o", "r", 1, []string{"bug"}); err != nil {
				t.Fatal(err)
			}
			var auths []string
			for _, r := range g.all() {
				if r.Method == http.MethodPost && !strings.HasSuffix(r.Path, "/access_tokens") {
					auths = append(auths, r.Auth)
				}
			}
			if diff := cmp.Diff(tt.wantAuths, auths); diff != "" {
				t.Errorf("tokens used (-want +got):\n%s", diff)
			}
			if n := g.tokenCount(); n != tt.wantTokens {
				t.Errorf("token requests = %d, want %d", n, tt.wantTokens)
			}
		})
	}
}

func TestInstallationClientsCachedAndBounded(t *testing.T) {
	g := newGHServer(t)
	a, _ := newTestApp(t, g, WithCacheSize(2))
	c1 := a.Installation(1)
	if a.Installation(1) != c1 {
		t.Error("Installation(1) twice gave two clients")
	}
	a.Installation(2)
	a.Installation(3)
	if n := a.installations.Len(); n != 2 {
		t.Errorf("cached clients = %d, want 2", n)
	}
	if a.Installation(1) == c1 {
		t.Error("least recently used client was not forgotten")
	}
}

// The token endpoint is ghinstallation's: its failures are classified like any other answer.
func TestTokenEndpointFailuresClassified(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		headers       map[string]string
		wantPermanent bool
		wantRetry     time.Duration
	}{
		{name: "installation gone", status: 404, wantPermanent: true},
		{name: "suspended", status: 403, wantPermanent: true},
		{name: "GitHub down", status: 502},
		{name: "secondary limit", status: 403, headers: map[string]string{"Retry-After": "120"}, wantRetry: 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGHServer(t)
			g.mux = http.NewServeMux() // no token endpoint but this one
			g.handle("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				writeJSON(w, tt.status, map[string]any{"message": "no"})
			})
			a, _ := newTestApp(t, g)
			_, _, err := a.Installation(3).Issues.Get(context.Background(), "o", "r", 1)
			err = Classify(err)
			if queue.IsPermanent(err) != tt.wantPermanent {
				t.Errorf("queue.IsPermanent(%v) = %v, want %v", err, queue.IsPermanent(err), tt.wantPermanent)
			}
			if d, _ := queue.RetryAfter(err); d != tt.wantRetry {
				t.Errorf("RetryAfter(%v) = %s, want %s", err, d, tt.wantRetry)
			}
		})
	}
}

// The bot's login is known without GitHub when given, else once GitHub has answered GET /app;
// serve holds /readyz until then.
func TestBotLoginKnown(t *testing.T) {
	g := newGHServer(t)
	g.handle("GET /app", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"slug": "triage-helper"})
	})
	given, _ := newTestApp(t, g) // newTestApp gives "triagebot[bot]"
	if !given.BotLoginKnown() {
		t.Error("a given login is not known")
	}
	a, err := New(Config{AppID: 42, PrivateKeyPEM: testKey(t), BaseURL: g.baseURL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if a.BotLoginKnown() {
		t.Fatal("known before GitHub was asked")
	}
	if login, err := a.BotLogin(context.Background()); err != nil || login != "triage-helper[bot]" {
		t.Fatalf("BotLogin = %q, %v", login, err)
	}
	if !a.BotLoginKnown() {
		t.Error("not known after GitHub answered")
	}
}
