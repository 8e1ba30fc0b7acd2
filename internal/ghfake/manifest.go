package ghfake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The App manifest flow (docs.github.com, "Registering a GitHub App from a manifest"): a page
// POSTs a form field `manifest` (JSON) to /settings/apps/new?state=S (a user's App) or
// /organizations/ORG/settings/apps/new?state=S on GitHub's web host; the person confirms the
// name; GitHub redirects to the manifest's redirect_url with ?code=C&state=S; the code is
// exchanged once, within an hour, at POST /app-manifests/{code}/conversions (REST, no
// authentication) for the App's id, slug, private key and webhook secret.
//
// The fake emulates one App, so registering from a manifest registers that App: the answer
// carries its ID, slug and private key; the manifest's webhook URL and a new secret become the
// webhook the fake signs deliveries with.

// ManifestCodeTTL is how long a manifest code can be exchanged.
const ManifestCodeTTL = time.Hour

// RegisteredApp is an App registration made through the manifest flow.
type RegisteredApp struct {
	Owner    string          // the user or organisation that owns it
	Name     string          // as confirmed on the form
	Manifest json.RawMessage // as posted
	Code     string          // the one-time code
	Secret   string          // the webhook secret generated for it
	Made     time.Time
	Used     bool // the code was exchanged
}

// manifest is the part of a manifest the fake reads.
type manifest struct {
	Name           string            `json:"name"`
	URL            string            `json:"url"`
	HookAttributes *hookAttributes   `json:"hook_attributes"`
	RedirectURL    string            `json:"redirect_url"`
	Description    string            `json:"description"`
	Public         bool              `json:"public"`
	Events         []string          `json:"default_events"`
	Permissions    map[string]string `json:"default_permissions"`
}

type hookAttributes struct {
	URL    string `json:"url"`
	Active *bool  `json:"active"`
}

// Web is GitHub's web host (github.com, or a GitHub Enterprise Server's root): the forms that
// create an App from a manifest. Serve it on its own address, or next to the REST API of a
// fake with prefix /api/v3/ (GitHub Enterprise Server's layout).
func (s *Server) Web() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /settings/apps/new", func(w http.ResponseWriter, r *http.Request) { s.manifestForm(w, r, "") })
	mux.HandleFunc("POST /organizations/{org}/settings/apps/new", func(w http.ResponseWriter, r *http.Request) {
		s.manifestForm(w, r, r.PathValue("org"))
	})
	mux.HandleFunc("POST /settings/apps/new/confirm", s.manifestConfirm)
	return mux
}

// ManifestUser is the person signed in on the fake's web host.
const ManifestUser = "octo-admin"

var confirmPage = template.Must(template.New("confirm").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Create GitHub App</title></head><body>
<h1>Create GitHub App for {{.Owner}}</h1>
<form method="post" action="/settings/apps/new/confirm">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="owner" value="{{.Owner}}">
<label>GitHub App name <input type="text" id="name" name="name" value="{{.Name}}"></label>
<p>Webhook URL: <code id="hook">{{.Hook}}</code></p>
<button type="submit" id="create">Create GitHub App for {{.Owner}}</button>
</form></body></html>
`))

// manifestForm checks a posted manifest and shows the page where the person confirms the name.
func (s *Server) manifestForm(w http.ResponseWriter, r *http.Request, org string) {
	raw := r.PostFormValue("manifest")
	m, err := parseManifest(raw)
	if err != nil {
		http.Error(w, "Invalid GitHub App configuration: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	owner := ManifestUser
	if org != "" {
		owner = org
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = confirmPage.Execute(w, map[string]string{
		"Owner": owner, "Manifest": raw, "State": r.URL.Query().Get("state"), "Name": m.Name, "Hook": m.HookAttributes.URL,
	})
}

// manifestConfirm creates the registration and redirects to the manifest's redirect_url.
func (s *Server) manifestConfirm(w http.ResponseWriter, r *http.Request) {
	raw := r.PostFormValue("manifest")
	m, err := parseManifest(raw)
	if err != nil {
		http.Error(w, "Invalid GitHub App configuration: "+err.Error(), http.StatusUnprocessableEntity)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		http.Error(w, "Name can't be blank", http.StatusUnprocessableEntity)
		return
	}
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	code := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.manifestApps = append(s.manifestApps, &RegisteredApp{Owner: r.PostFormValue("owner"), Name: name,
		Manifest: json.RawMessage(raw), Code: code, Secret: newGUID(), Made: s.now()})
	s.signalLocked()
	s.mu.Unlock()
	q := url.Values{"code": {code}}
	if st := r.PostFormValue("state"); st != "" {
		q.Set("state", st)
	}
	target := m.RedirectURL
	if strings.Contains(target, "?") {
		target += "&" + q.Encode()
	} else {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusFound)
}

func parseManifest(raw string) (manifest, error) {
	var m manifest
	if raw == "" {
		return m, fmt.Errorf("no manifest")
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return m, fmt.Errorf("manifest is not JSON: %w", err)
	}
	switch {
	case m.URL == "":
		return m, fmt.Errorf("url is required")
	case m.HookAttributes == nil || m.HookAttributes.URL == "":
		return m, fmt.Errorf("hook_attributes.url is required")
	case m.RedirectURL == "":
		return m, fmt.Errorf("redirect_url is required by this flow")
	}
	for _, u := range []string{m.URL, m.HookAttributes.URL, m.RedirectURL} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return m, fmt.Errorf("%q is not an http(s) URL", u)
		}
	}
	return m, nil
}

// hConvertManifest is POST /app-manifests/{code}/conversions.
func (s *Server) hConvertManifest(c *call) response {
	code := c.params["code"]
	i := slices.IndexFunc(s.manifestApps, func(a *RegisteredApp) bool { return a.Code == code })
	if i < 0 || s.manifestApps[i].Used {
		return notFound()
	}
	reg := s.manifestApps[i]
	if c.now.Sub(reg.Made) > ManifestCodeTTL {
		return jsonResponse(http.StatusUnprocessableEntity, map[string]any{
			"message": "Validation Failed", "documentation_url": docsURL, "status": "422",
			"errors": []string{"Code has expired"},
		})
	}
	reg.Used = true
	m, _ := parseManifest(string(reg.Manifest)) // checked when posted
	s.hookURL, s.hookSecret = m.HookAttributes.URL, reg.Secret
	owner := s.ghUserLocked(reg.Owner)
	events := m.Events
	if events == nil {
		events = []string{}
	}
	perms := m.Permissions
	if perms == nil {
		perms = map[string]string{}
	}
	web := "http://" + c.r.Host
	return jsonResponse(http.StatusCreated, map[string]any{
		"id": s.appID, "slug": s.appSlug, "node_id": nodeID("A", s.appID), "client_id": fmt.Sprintf("Iv1.%016x", s.appID),
		"owner": owner, "name": reg.Name, "description": m.Description, "external_url": m.URL,
		"html_url": web + "/apps/" + s.appSlug, "created_at": reg.Made.UTC().Format(time.RFC3339),
		"updated_at": reg.Made.UTC().Format(time.RFC3339), "permissions": perms, "events": events,
		"client_secret": newGUID(), "webhook_secret": reg.Secret, "pem": string(s.privPEM),
	})
}

// RegisteredApps are the registrations made through the manifest flow, oldest first.
func (s *Server) RegisteredApps() []RegisteredApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RegisteredApp, len(s.manifestApps))
	for i, a := range s.manifestApps {
		out[i] = *a
	}
	return out
}

// Webhook is where the fake sends webhooks and the secret it signs them with.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hookURL, s.hookSecret
}
