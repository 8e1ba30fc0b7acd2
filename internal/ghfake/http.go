package ghfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

const docsURL = "https://docs.github.com/rest"

type route struct {
	method string
	tmpl   string // as in the OpenAPI description, e.g. /repos/{owner}/{repo}/labels
	segs   []string
	app    bool // authenticated with the App's JWT, not an installation token
	free   bool // costs no rate limit
	public bool // needs no authentication
	h      func(*call) response
}

// call is one request being answered. Handlers run with s.mu held.
type call struct {
	r      *http.Request
	params map[string]string
	body   []byte
	inst   int64
	perms  map[string]string // the installation token's permissions
	repo   *repo
	now    time.Time
}

type response struct {
	status int
	body   json.RawMessage // nil: no body
	header http.Header
}

func jsonResponse(status int, v any) response {
	if raw, ok := v.(json.RawMessage); ok {
		return response{status: status, body: raw}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return response{status: status, body: b}
}

func errorResponse(status int, msg string) response {
	return jsonResponse(status, map[string]string{"message": msg, "documentation_url": docsURL, "status": strconv.Itoa(status)})
}

func notFound() response { return errorResponse(http.StatusNotFound, "Not Found") }

func validationFailed(resource, field, code string) response {
	return jsonResponse(http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation Failed", "documentation_url": docsURL, "status": "422",
		"errors": []map[string]string{{"resource": resource, "field": field, "code": code}},
	})
}

func (s *Server) addRoute(rs *[]*route, method, tmpl string, h func(*call) response, flags ...string) {
	rt := &route{method: method, tmpl: tmpl, segs: strings.Split(strings.TrimPrefix(tmpl, "/"), "/"), h: h}
	for _, f := range flags {
		switch f {
		case "app":
			rt.app = true
		case "free":
			rt.free = true
		case "public":
			rt.public = true
		}
	}
	*rs = append(*rs, rt)
}

// match finds the route for an escaped path (starting with "/"). The contents {path}
// parameter may span several segments.
func (s *Server) match(method, escaped string) (*route, map[string]string, bool) {
	segs := strings.Split(strings.TrimPrefix(escaped, "/"), "/")
	pathMatched := false
	for _, rt := range s.routes {
		params, ok := matchSegs(rt.segs, segs)
		if !ok {
			continue
		}
		pathMatched = true
		if rt.method == method {
			return rt, params, true
		}
	}
	return nil, nil, pathMatched
}

func matchSegs(tmpl, segs []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, t := range tmpl {
		if i >= len(segs) {
			return nil, false
		}
		if t == "{path}" && i == len(tmpl)-1 {
			var parts []string
			for _, p := range segs[i:] {
				u, err := url.PathUnescape(p)
				if err != nil || u == "" {
					return nil, false
				}
				parts = append(parts, u)
			}
			params["path"] = strings.Join(parts, "/")
			return params, true
		}
		if strings.HasPrefix(t, "{") {
			u, err := url.PathUnescape(segs[i])
			if err != nil || u == "" {
				return nil, false
			}
			params[strings.Trim(t, "{}")] = u
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, len(segs) == len(tmpl)
}

// ServeHTTP answers the REST API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	escaped := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(escaped, strings.TrimSuffix(s.prefix, "/"))
	if !ok || !strings.HasPrefix(rest, "/") {
		s.write(w, errorResponse(http.StatusNotFound, "Not Found"))
		return
	}
	rt, params, pathOK := s.match(r.Method, rest)
	body, err := io.ReadAll(io.LimitReader(r.Body, 25<<20))
	if err != nil {
		s.write(w, errorResponse(http.StatusBadRequest, "Problems reading the request body"))
		return
	}

	s.mu.Lock()
	now := s.now()
	c := &call{r: r, params: params, body: body, now: now}
	var res response
	switch {
	case rt != nil:
		res = s.serveLocked(rt, c)
	case pathOK:
		res = errorResponse(http.StatusNotFound, "Not Found") // GitHub answers 404 for unknown methods too
	default:
		res = notFound()
	}
	tmpl := ""
	if rt != nil {
		tmpl = rt.tmpl
	}
	s.requests = append(s.requests, Request{Time: now, Method: r.Method, Route: tmpl, Path: rest,
		Status: res.status, InstallationID: c.inst})
	if res.header.Get("X-RateLimit-Limit") == "" {
		res = s.anonymousRate(res, now)
	}
	latency := s.faults.latency
	if c.inst != 0 {
		s.enterLocked(c.inst, r.Method)
	}
	s.log.Debug("request", zap.String("method", r.Method), zap.String("route", tmpl), zap.String("path", rest),
		zap.Int("status", res.status), zap.Int64("installation_id", c.inst))
	s.signalLocked()
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-s.stop:
		}
		t.Stop()
	}
	if c.inst != 0 {
		s.leave(c.inst, r.Method) // before answering, so a serial client never overlaps itself
	}
	if r.Method == http.MethodHead {
		res.body = nil
	}
	for k, v := range res.header {
		w.Header()[k] = v
	}
	s.write(w, res)
}

func (s *Server) write(w http.ResponseWriter, res response) {
	h := w.Header()
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Request-Id", newGUID()[:18])
	if res.body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(res.body)))
	}
	w.WriteHeader(res.status)
	if res.body != nil {
		_, _ = w.Write(res.body)
	}
}

// serveLocked authenticates, applies rate limits and faults, then runs the handler.
func (s *Server) serveLocked(rt *route, c *call) response {
	var key int64
	if rt.public {
		// No authentication: GitHub limits these by address; the fake does not.
	} else if rt.app {
		if msg := s.verifyJWTLocked(c.r.Header.Get("Authorization"), c.now); msg != "" {
			return errorResponse(http.StatusUnauthorized, msg)
		}
	} else {
		tok, res, ok := s.authTokenLocked(c.r.Header.Get("Authorization"), c.now)
		if !ok {
			return res
		}
		inst := tok.installation
		c.inst, c.perms, key = inst, tok.perms, inst
		if owner, ok := c.params["owner"]; ok {
			r, exists := s.repos[strings.ToLower(owner+"/"+c.params["repo"])]
			if !exists || r.installationID != inst || !s.installs[inst].repos[r.id] {
				return s.withRate(key, notFound())
			}
			c.repo = r
		}
	}

	b := s.bucketLocked(key, c.now)
	if b.used >= b.limit && b.told {
		s.violationLocked(c, key, b.reset, "primary rate limit exhausted")
	}
	if until := s.retryUntil[key]; c.now.Before(until) {
		s.violationLocked(c, key, until, "inside Retry-After window")
	}
	if !rt.free {
		if f := &s.faults; f.secondaryLeft > 0 {
			f.secondaryLeft--
			res := errorResponse(f.secondaryStatus, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.")
			if f.retryAfter > 0 {
				s.retryUntil[key] = c.now.Add(f.retryAfter)
				res.header = http.Header{"Retry-After": {strconv.Itoa(int((f.retryAfter + time.Second - 1) / time.Second))}}
			} else {
				s.retryUntil[key] = c.now.Add(time.Minute)
			}
			return s.withRate(key, res)
		}
		if b.used >= b.limit {
			msg := fmt.Sprintf("API rate limit exceeded for installation ID %d.", key)
			if rt.app {
				msg = fmt.Sprintf("API rate limit exceeded for app ID %d.", s.appID)
			}
			return s.withRate(key, errorResponse(http.StatusForbidden, msg+" If you reach out to GitHub Support for help, please include the request ID."))
		}
		b.used++
		if f := &s.faults; f.errorRate > 0 && f.rng.Float64() < f.errorRate {
			if c.r.Method != http.MethodGet && f.appliedRate > 0 && f.rng.Float64() < f.appliedRate {
				rt.h(c) // the change lands, the answer is lost
			}
			if f.rng.IntN(2) == 0 {
				return s.withRate(key, errorResponse(http.StatusInternalServerError, "Server Error"))
			}
			return s.withRate(key, response{status: http.StatusBadGateway,
				body: json.RawMessage(`{"message":"Server Error","documentation_url":"` + docsURL + `","status":"502"}`)})
		}
	}
	res := rt.h(c)
	if res.status == http.StatusNotModified && !rt.free {
		b.used-- // conditional requests answered 304 cost nothing
	}
	return s.withRate(key, res)
}

// authTokenLocked checks an installation token ("token X" or "Bearer X").
func (s *Server) authTokenLocked(header string, now time.Time) (*instToken, response, bool) {
	scheme, tok, _ := strings.Cut(header, " ")
	if header == "" {
		return nil, errorResponse(http.StatusUnauthorized, "Requires authentication"), false
	}
	if !strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer") {
		return nil, errorResponse(http.StatusUnauthorized, "Bad credentials"), false
	}
	t, ok := s.tokens[strings.TrimSpace(tok)]
	if !ok || !now.Before(t.expires) {
		return nil, errorResponse(http.StatusUnauthorized, "Bad credentials"), false
	}
	if _, ok := s.installs[t.installation]; !ok {
		return nil, errorResponse(http.StatusUnauthorized, "Bad credentials"), false
	}
	return t, response{}, true
}

func pathInt(c *call, name string) (int64, bool) {
	n, err := strconv.ParseInt(c.params[name], 10, 64)
	return n, err == nil && n > 0
}

// enterLocked and leave count the requests of an installation being answered (the handler
// plus any injected latency), so tests can check a client's concurrency cap and serial writes.
func (s *Server) enterLocked(inst int64, method string) {
	n := s.inflight[inst]
	if n == nil {
		n = &[2]int{}
		s.inflight[inst] = n
	}
	n[0]++
	if method != http.MethodGet && method != http.MethodHead {
		n[1]++
	}
	p := s.peak[inst]
	s.peak[inst] = [2]int{max(p[0], n[0]), max(p[1], n[1])}
}

func (s *Server) leave(inst int64, method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.inflight[inst]
	n[0]--
	if method != http.MethodGet && method != http.MethodHead {
		n[1]--
	}
}

// Concurrency returns the most requests, and the most writes, of an installation that were
// being answered at the same time. Only injected latency makes answers overlap.
func (s *Server) Concurrency(installationID int64) (requests, writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.peak[installationID]
	return p[0], p[1]
}
