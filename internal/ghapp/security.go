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
	// The repository's folders at once, then the owner's .github repository's.
	rounds := [][]place{placesIn(x.t.Name, dirSuffixes())}
	if !strings.EqualFold(x.t.Name, OrgConfigRepo) {
		rounds = append(rounds, placesIn(OrgConfigRepo, dirSuffixes()))
	}
	return x.firstIn(ctx, rounds, func(f lookedUpFile) string { return f.security })
}
