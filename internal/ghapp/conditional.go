package ghapp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Clients gives installation clients; *App implements it.
type Clients interface {
	Installation(id int64) *github.Client
}

var _ Clients = (*App)(nil)

// fetched is a conditional read of a repository file.
type fetched struct {
	Status  int    // 200, 304 (unchanged since etag) or 404 (no such file, or no such repository)
	Body    []byte // 200 only
	ETag    string // 200 only
	HTMLURL string // 200 only
}

// getFile reads owner/repo's path on the default branch. With an etag it sends If-None-Match,
// and GitHub answers 304 without counting the request against the rate limit. go-github v60
// reports a 304 as an *ErrorResponse (it is not a 2xx), which is undone here.
func getFile(ctx context.Context, gh *github.Client, owner, repo, path, etag string) (fetched, error) {
	u := fmt.Sprintf("repos/%s/%s/contents/%s", url.PathEscape(owner), url.PathEscape(repo), escapePath(path))
	req, err := gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return fetched{}, &PermanentError{Err: err}
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	var c github.RepositoryContent
	resp, err := gh.Do(ctx, req, &c)
	if resp != nil && resp.Response != nil {
		switch resp.StatusCode {
		case http.StatusNotModified:
			return fetched{Status: http.StatusNotModified}, nil
		case http.StatusNotFound:
			return fetched{Status: http.StatusNotFound}, nil
		}
	}
	if err != nil {
		return fetched{}, fmt.Errorf("read %s/%s %s: %w", owner, repo, path, Classify(err))
	}
	if c.GetType() != "file" {
		return fetched{Status: http.StatusNotFound}, nil
	}
	body, err := c.GetContent()
	if err != nil {
		return fetched{}, &PermanentError{Err: fmt.Errorf("read %s/%s %s: %w", owner, repo, path, err)}
	}
	return fetched{Status: http.StatusOK, Body: []byte(body), ETag: resp.Header.Get("ETag"), HTMLURL: c.GetHTMLURL()}, nil
}

// escapePath escapes each segment of a file path, keeping the slashes.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
