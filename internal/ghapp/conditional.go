package ghapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/triagebot/triagebot/rules"
)

// Clients gives installation clients; *App implements it.
type Clients interface {
	Installation(id int64) *github.Client
}

var _ Clients = (*App)(nil)

// fetched is a conditional read of a repository file.
type fetched struct {
	Status  int    // 200, 304 (unchanged since etag) or 404 (no such file, or no such repository)
	Body    []byte // 200 only, and only when the content was asked for
	ETag    string // 200 only
	SHA     string // 200 only: the blob's sha
	HTMLURL string // 200 only
}

// FileTooLargeError is a file whose content the bot does not read: GitHub does not give it
// through the contents API (over 1 MB it answers encoding "none", over 100 MB 403 too_large),
// or it is over the caller's limit.
type FileTooLargeError struct {
	Repo, Path string
	Size       int    // bytes; 0 when GitHub did not say
	Limit      int    // the caller's limit; 0 when GitHub refused
	ETag       string // of GitHub's answer, to ask again conditionally
}

func (e *FileTooLargeError) Error() string {
	if e.Limit > 0 {
		return rules.TooLargeMessage(e.Size)
	}
	if e.Size > 0 {
		return fmt.Sprintf("the file is %d bytes, too large for GitHub's contents API", e.Size)
	}
	return "the file is too large for GitHub's contents API"
}

// Permanent reports true: the same file is as large next time.
func (e *FileTooLargeError) Permanent() bool { return true }

// getFile reads owner/repo's path on the default branch. With an etag it sends If-None-Match,
// and GitHub answers 304 without counting the request against the rate limit. go-github v60
// reports a 304 as an *ErrorResponse (it is not a 2xx), which is undone here. maxSize is
// a limit in bytes (a larger file is a *FileTooLargeError), or 0 for none.
func getFile(ctx context.Context, gh *github.Client, owner, repo, path, etag string, maxSize int) (fetched, error) {
	u := fmt.Sprintf("repos/%s/%s/contents/%s", url.PathEscape(owner), url.PathEscape(repo), escapePath(path))
	var c github.RepositoryContent
	resp, answered, err := conditionalGet(ctx, gh, u, etag, &c)
	if answered != 0 {
		return fetched{Status: answered}, nil
	}
	full := owner + "/" + repo
	if err != nil {
		if tooLarge(err) {
			return fetched{}, &PermanentError{Status: http.StatusForbidden, Err: &FileTooLargeError{Repo: full, Path: path}}
		}
		return fetched{}, fmt.Errorf("read %s %s: %w", full, path, Classify(err))
	}
	if c.GetType() != "file" {
		return fetched{Status: http.StatusNotFound}, nil
	}
	out := fetched{Status: http.StatusOK, ETag: resp.Header.Get("ETag"), SHA: c.GetSHA(), HTMLURL: c.GetHTMLURL()}
	if maxSize > 0 && c.GetSize() > maxSize {
		return fetched{}, &PermanentError{Err: &FileTooLargeError{Repo: full, Path: path, Size: c.GetSize(), Limit: maxSize, ETag: out.ETag}}
	}
	if c.GetEncoding() == "none" {
		return fetched{}, &PermanentError{Err: &FileTooLargeError{Repo: full, Path: path, Size: c.GetSize(), ETag: out.ETag}}
	}
	body, err := c.GetContent()
	if err != nil {
		return fetched{}, &PermanentError{Err: fmt.Errorf("read %s %s: %w", full, path, err)}
	}
	if maxSize > 0 && len(body) > maxSize {
		return fetched{}, &PermanentError{Err: &FileTooLargeError{Repo: full, Path: path, Size: len(body), Limit: maxSize, ETag: out.ETag}}
	}
	out.Body = []byte(body)
	return out, nil
}

// tooLarge: GitHub's 403 for a file over 100 MB (errors[].code too_large).
func tooLarge(err error) bool {
	return hasErrorCode(err, http.StatusForbidden, "too_large")
}

// escapePath escapes each segment of a file path, keeping the slashes.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// conditionalGet GETs an API path (relative to the base URL) with If-None-Match when etag is
// set, decoding a 200 into v. A 304 or 404 is an answer (answered), not an error.
func conditionalGet(ctx context.Context, gh *github.Client, path, etag string, v any) (resp *github.Response, answered int, err error) {
	req, err := gh.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return nil, 0, &PermanentError{Err: err}
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err = gh.Do(ctx, req, v)
	if resp != nil && resp.Response != nil && (resp.StatusCode == http.StatusNotModified || resp.StatusCode == http.StatusNotFound) {
		return resp, resp.StatusCode, nil
	}
	return resp, 0, err
}

// getJSON is a conditional GET of an API path: 200 with the body, 304 when it has not changed
// since etag, 404 when there is no such thing.
func getJSON(ctx context.Context, gh *github.Client, path, etag string) (fetched, error) {
	var body json.RawMessage
	resp, answered, err := conditionalGet(ctx, gh, path, etag, &body)
	if answered != 0 {
		return fetched{Status: answered}, nil
	}
	if err != nil {
		return fetched{}, fmt.Errorf("read %s: %w", path, Classify(err))
	}
	return fetched{Status: http.StatusOK, Body: body, ETag: resp.Header.Get("ETag")}, nil
}
