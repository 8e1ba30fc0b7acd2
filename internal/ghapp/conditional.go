package ghapp

import (
	"context"
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

// The content a getFile call asks for.
const (
	noContent = -1 // the answer's metadata only (a lookup wants the html_url)
	anyLength = 0  // the content, whatever its size
)

// getFile reads owner/repo's path on the default branch. With an etag it sends If-None-Match,
// and GitHub answers 304 without counting the request against the rate limit. go-github v60
// reports a 304 as an *ErrorResponse (it is not a 2xx), which is undone here. maxSize is
// noContent, anyLength, or a limit in bytes: a larger file is a *FileTooLargeError.
func getFile(ctx context.Context, gh *github.Client, owner, repo, path, etag string, maxSize int) (fetched, error) {
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
	if maxSize == noContent {
		return out, nil
	}
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
