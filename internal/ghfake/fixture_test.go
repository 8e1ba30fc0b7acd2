package ghfake

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/golang-jwt/jwt/v4"
	"github.com/google/go-github/v60/github"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// clock is a settable clock for WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// appJWT signs an App JWT with the fake's private key.
func appJWT(t *testing.T, s *Server, iss any, iat, exp time.Time) string {
	t.Helper()
	key, err := jwt.ParseRSAPrivateKeyFromPEM(s.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	return signJWT(t, key, jwt.MapClaims{"iss": iss, "iat": iat.Unix(), "exp": exp.Unix()})
}

func signJWT(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type invalidKey struct{}

// expectInvalid marks a request the test sends on purpose against the schema.
func expectInvalid(ctx context.Context) context.Context {
	return context.WithValue(ctx, invalidKey{}, true)
}

// authTransport adds an Authorization header and the test's markers.
type authTransport struct {
	auth func() string
}

func (a authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if a.auth != nil {
		r.Header.Set("Authorization", a.auth())
	}
	if r.Context().Value(invalidKey{}) != nil {
		r.Header.Set("X-Test-Invalid", "1")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// newClient returns a go-github client for srv, GHES-style when the fake has a prefix.
func newClient(t *testing.T, srv *httptest.Server, prefix string, auth func() string) *github.Client {
	t.Helper()
	c := github.NewClient(&http.Client{Transport: authTransport{auth: auth}})
	if prefix == "/" {
		u, _ := url.Parse(srv.URL + "/")
		c.BaseURL = u
		return c
	}
	c, err := c.WithEnterpriseURLs(srv.URL+prefix, srv.URL+prefix)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// validator checks every request and response against the OpenAPI subset of GitHub's API.
type validator struct {
	t      *testing.T
	doc    *openapi3.T
	prefix string
	routes []docRoute

	mu   sync.Mutex
	errs []string
	seen map[string]bool // "operationId status"
}

type docRoute struct {
	re     *regexp.Regexp
	names  []string
	path   string
	method string
	item   *openapi3.PathItem
	op     *openapi3.Operation
}

func newValidator(t *testing.T, prefix string) *validator {
	t.Helper()
	ctx := context.Background()
	doc, err := openapi3.NewLoader().LoadFromFile("../../testdata/github-openapi-subset.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(ctx, openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("openapi subset: %v", err)
	}
	v := &validator{t: t, doc: doc, prefix: strings.TrimSuffix(prefix, "/"), seen: map[string]bool{}}
	for path, item := range doc.Paths.Map() {
		var names, parts []string
		for _, seg := range strings.Split(path, "/") {
			name, isParam := strings.CutPrefix(seg, "{")
			if !isParam {
				parts = append(parts, regexp.QuoteMeta(seg))
				continue
			}
			name = strings.TrimSuffix(name, "}")
			names = append(names, name)
			if name == "path" { // x-multi-segment
				parts = append(parts, `(.+)`)
			} else {
				parts = append(parts, `([^/]+)`)
			}
		}
		re := regexp.MustCompile("^" + strings.Join(parts, "/") + "$")
		for method, op := range item.Operations() {
			v.routes = append(v.routes, docRoute{re: re, names: names, path: path, method: method, item: item, op: op})
		}
	}
	return v
}

func (v *validator) fail(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

func (v *validator) find(method, escaped string) (*docRoute, map[string]string) {
	for i := range v.routes {
		rt := &v.routes[i]
		if rt.method != method {
			continue
		}
		m := rt.re.FindStringSubmatch(escaped)
		if m == nil {
			continue
		}
		params := map[string]string{}
		for j, name := range rt.names {
			p, err := url.PathUnescape(m[j+1])
			if err != nil {
				return nil, nil
			}
			params[name] = p
		}
		return rt, params
	}
	return nil, nil
}

// wrap validates what goes through h.
func (v *validator) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, vals := range rec.Header() {
			w.Header()[k] = vals
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		escaped, ok := strings.CutPrefix(r.URL.EscapedPath(), v.prefix)
		if !ok {
			v.fail("%s %s: outside prefix %q", r.Method, r.URL.Path, v.prefix)
			return
		}
		rt, params := v.find(r.Method, escaped)
		if rt == nil {
			v.fail("%s %s: not an operation of the OpenAPI subset", r.Method, escaped)
			return
		}
		ctx := context.Background()
		vr := r.Clone(ctx)
		vr.Body = io.NopCloser(bytes.NewReader(body))
		in := &openapi3filter.RequestValidationInput{
			Request: vr, PathParams: params,
			Route:   &routers.Route{Spec: v.doc, Path: rt.path, PathItem: rt.item, Method: rt.method, Operation: rt.op},
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		err := openapi3filter.ValidateRequest(ctx, in)
		wantInvalid := r.Header.Get("X-Test-Invalid") != ""
		switch {
		case err != nil && !wantInvalid:
			v.fail("%s %s: request: %v", r.Method, escaped, err)
		case err == nil && wantInvalid:
			v.fail("%s %s: request the test meant to be invalid passed validation", r.Method, escaped)
		}
		// Success statuses must be documented; GitHub's description leaves out some error
		// statuses (401 everywhere, 403/429/5xx of rate limits), whose bodies are then unchecked.
		opts := &openapi3filter.Options{IncludeResponseStatus: rec.Code < 400}
		rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code,
			Header: rec.Header(), Options: opts}
		rin.SetBodyBytes(rec.Body.Bytes())
		if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
			v.fail("%s %s: response %d: %v\n%s", r.Method, escaped, rec.Code, err, truncate(rec.Body.String()))
			return
		}
		v.mu.Lock()
		v.seen[fmt.Sprintf("%s %d", rt.op.OperationID, rec.Code)] = true
		v.mu.Unlock()
	})
}

func truncate(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

func (v *validator) check(t *testing.T) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, e := range v.errs {
		t.Error(e)
	}
}

// hookReceiver records the webhooks it receives.
type hookReceiver struct {
	mu   sync.Mutex
	got  []receivedHook
	code int
}

type receivedHook struct {
	header http.Header
	body   []byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.got = append(h.got, receivedHook{header: r.Header.Clone(), body: body})
	code := h.code
	h.mu.Unlock()
	if code == 0 {
		code = http.StatusAccepted
	}
	w.WriteHeader(code)
}

func (h *hookReceiver) take() []receivedHook {
	h.mu.Lock()
	defer h.mu.Unlock()
	got := h.got
	h.got = nil
	return got
}

func (h *hookReceiver) setCode(code int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.code = code
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// must fails the test on err.
func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
