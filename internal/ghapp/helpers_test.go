package ghapp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

var (
	keyOnce sync.Once
	keyPEM  []byte
)

// testKey is one RSA key for the whole package run (generating one is slow under -race).
func testKey(t testing.TB) []byte {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	return keyPEM
}

// fakeClock never waits: Sleep moves the time on and records the wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// request is what the test server saw.
type request struct {
	Method      string
	Path        string // without the /api/v3 prefix
	IfNoneMatch string
	Auth        string
	Body        string
}

// ghServer is a minimal GitHub under /api/v3/ (an absolute-URL bug fails against it). Tests
// register handlers with handle; the token endpoint is built in.
type ghServer struct {
	t   testing.TB
	srv *httptest.Server
	mux *http.ServeMux

	mu       sync.Mutex
	requests []request
	tokenTTL time.Duration // lifetime of the tokens issued (real time: ghinstallation uses time.Now)
	tokens   int
	refuse   bool // the token endpoint answers 401, as GitHub does to a JWT of a wrong key
}

const apiPrefix = "/api/v3"

func newGHServer(t testing.TB) *ghServer {
	t.Helper()
	g := &ghServer{t: t, mux: http.NewServeMux(), tokenTTL: time.Hour}
	g.handle("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, `{"message":"A JSON web token could not be decoded"}`, http.StatusUnauthorized)
			return
		}
		g.mu.Lock()
		refuse := g.refuse
		g.tokens++
		n, ttl := g.tokens, g.tokenTTL
		g.mu.Unlock()
		if refuse {
			http.Error(w, `{"message":"A JSON web token could not be decoded"}`, http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":"ghs_%s_%d","expires_at":%q}`, r.PathValue("id"), n, time.Now().Add(ttl).UTC().Format(time.RFC3339))
	})
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
			t.Errorf("request outside the API root: %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		g.requests = append(g.requests, request{Method: r.Method, Path: strings.TrimPrefix(r.URL.EscapedPath(), apiPrefix),
			IfNoneMatch: r.Header.Get("If-None-Match"), Auth: r.Header.Get("Authorization"), Body: string(body)})
		g.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		w.Header().Set("Content-Type", "application/json")
		g.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *ghServer) handle(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	g.mux.HandleFunc(method+" "+apiPrefix+path, h)
}

func (g *ghServer) baseURL() string { return g.srv.URL + apiPrefix + "/" }

// calls are the requests seen, except the token endpoint's, as "METHOD path".
func (g *ghServer) calls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, r := range g.requests {
		if strings.HasSuffix(r.Path, "/access_tokens") {
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (g *ghServer) all() []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]request(nil), g.requests...)
}

func (g *ghServer) tokenCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.tokens
}

func (g *ghServer) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests = nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newTestApp is an App against g with a fake clock.
func newTestApp(t testing.TB, g *ghServer, opts ...Option) (*App, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	opts = append([]Option{WithClock(clock), WithBotLogin("triagebot[bot]")}, opts...)
	a, err := New(Config{AppID: 42, PrivateKeyPEM: testKey(t), BaseURL: g.baseURL(), Logger: zaptest.NewLogger(t)}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, clock
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
