package ghapp

import (
	"context"
	"strings"

	"github.com/triagebot/triagebot/rules"
)

var _ rules.SecurityPolicyLookup = (*lookup)(nil)

// SecurityPolicyURL implements rules.SecurityPolicyLookup: the html_url of the repository's
// SECURITY.md in any case (security.md, Security.MD…) at the root, in .github/ or docs/, else of
// the owner's .github repository's, else "". Directories are listed, since GitHub's contents
// API matches names exactly; the listings are the code of conduct's (CodeOfConductDirs), read
// and cached once for both.
func (x *lookup) SecurityPolicyURL(ctx context.Context) (string, error) {
	repos := []string{x.t.Name, OrgConfigRepo}
	if strings.EqualFold(x.t.Name, OrgConfigRepo) {
		repos = repos[:1]
	}
	for _, repo := range repos {
		for _, dir := range CodeOfConductDirs {
			f, err := x.l.file(ctx, x.t.InstallationID, x.t.Owner, repo, "contents/"+dir)
			if err != nil {
				return "", err
			}
			if f.security != "" {
				return f.security, nil
			}
		}
	}
	return "", nil
}
