package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/rules"
)

// The sweep's GitHub side, against a server under a GitHub Enterprise-style base path (ghfake
// does not serve these listings).
func TestNotificationsSweepSourceListsInstallationsRepositoriesAndIssues(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api-v3/app/installations", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			fmt.Fprint(w, `[{"id": 3}]`)
			return
		}
		w.Header().Set("Link", fmt.Sprintf(`<%s/api-v3/app/installations?per_page=100&page=2>; rel="next"`, srv.URL))
		fmt.Fprint(w, `[{"id": 1}, {"id": 2, "suspended_at": "2026-01-01T00:00:00Z"}]`)
	})
	mux.HandleFunc("POST /api-v3/app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token": "token-%s", "expires_at": %q}`, r.PathValue("id"), time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	})
	mux.HandleFunc("GET /api-v3/installation/repositories", func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "token token-1":
			fmt.Fprint(w, `{"total_count": 3, "repositories": [
				{"id": 10, "name": "rocket", "owner": {"login": "octo"}, "has_issues": true},
				{"id": 11, "name": "attic", "owner": {"login": "octo"}, "archived": true},
				{"id": 12, "name": "docs", "owner": {"login": "octo"}, "has_issues": false}]}`)
		case "token token-3":
			fmt.Fprint(w, `{"total_count": 1, "repositories": [{"id": 30, "name": "kit", "owner": {"login": "acme"}}]}`)
		default:
			http.Error(w, "bad token", http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("GET /api-v3/repos/octo/rocket/issues", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Get("state") != "open" || q.Get("labels") != "needs-triage" {
			http.Error(w, "unexpected query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `[
			{"number": 7, "title": "Crash", "html_url": "https://github.com/octo/rocket/issues/7", "created_at": "2026-11-01T10:00:00Z"},
			{"number": 8, "title": "A pull request", "created_at": "2026-11-01T10:00:00Z", "pull_request": {"url": "x"}}]`)
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	app, err := ghapp.New(ghapp.Config{AppID: 1, PrivateKeyPEM: keyPEM, BaseURL: srv.URL + "/api-v3/"}, ghapp.WithBotLogin("triagebot[bot]"))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	src := untriagedSource{app: app}

	repos, err := src.Repositories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []rules.Target{{InstallationID: 1, RepoID: 10, Owner: "octo", Name: "rocket"}, {InstallationID: 3, RepoID: 30, Owner: "acme", Name: "kit"}}
	if diff := cmp.Diff(want, repos); diff != "" {
		t.Fatalf("repositories (-want +got):\n%s", diff)
	}
	issues, err := src.OpenIssuesWithLabel(t.Context(), repos[0], "needs-triage")
	if err != nil {
		t.Fatal(err)
	}
	wantIssues := []notify.UntriagedIssue{{Repo: "octo/rocket", Number: 7, Title: "Crash", URL: "https://github.com/octo/rocket/issues/7",
		OpenedAt: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), Label: "needs-triage"}}
	if diff := cmp.Diff(wantIssues, issues); diff != "" {
		t.Fatalf("issues (-want +got):\n%s", diff)
	}
}
