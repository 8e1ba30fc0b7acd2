package ghapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/triagebot/triagebot/rules"
)

var _ rules.SecurityPolicyLookup = (*lookup)(nil)

// securityPolicyDirs are where GitHub looks for a SECURITY.md, in a repository and then in the
// owner's .github repository.
var securityPolicyDirs = []string{"", ".github", "docs"}

// SecurityPolicyURL implements rules.SecurityPolicyLookup: the html_url of the repository's
// SECURITY.md in any case (security.md, Security.MD…) at the root, in .github/ or docs/, else of
// the owner's .github repository's, else "". Directories are listed, since GitHub's contents
// API matches names exactly. Asked only for an issue taken for a security report: rare, so
// not cached beyond the event.
func (x *lookup) SecurityPolicyURL(ctx context.Context) (string, error) {
	repos := []string{x.t.Name, OrgConfigRepo}
	if strings.EqualFold(x.t.Name, OrgConfigRepo) {
		repos = repos[:1]
	}
	gh := x.l.clients.Installation(x.t.InstallationID)
	for _, repo := range repos {
		for _, dir := range securityPolicyDirs {
			u := fmt.Sprintf("repos/%s/%s/contents/%s", url.PathEscape(x.t.Owner), url.PathEscape(repo), dir)
			req, err := gh.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				return "", &PermanentError{Err: err}
			}
			var entries []*github.RepositoryContent
			if _, err := gh.Do(ctx, req, &entries); err != nil {
				if statusOf(err) == http.StatusNotFound {
					continue
				}
				var notList *json.UnmarshalTypeError
				if errors.As(err, &notList) {
					continue // a file, not a directory
				}
				return "", fmt.Errorf("list %s/%s/%s: %w", x.t.Owner, repo, dir, Classify(err))
			}
			for _, e := range entries {
				if e.GetType() == "file" && strings.EqualFold(e.GetName(), "SECURITY.md") {
					return e.GetHTMLURL(), nil
				}
			}
		}
	}
	return "", nil
}
