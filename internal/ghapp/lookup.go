package ghapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

	"github.com/triagebot/triagebot/internal/lru"
	"github.com/triagebot/triagebot/rules"
)

// CodeOfConductDirs are where GitHub looks for a code of conduct and a security policy, in a
// repository and then in the owner's .github repository: the root, .github/ and docs/, the
// file's name in any case.
var CodeOfConductDirs = []string{"", ".github", "docs"}

// isCodeOfConduct: CODE_OF_CONDUCT.md, code_of_conduct.md, Code_Of_Conduct.txt, ...
func isCodeOfConduct(name string) bool {
	switch strings.ToLower(name) {
	case "code_of_conduct.md", "code_of_conduct.txt", "code_of_conduct", "code-of-conduct.md":
		return true
	}
	return false
}

// Lookups answers the rules' questions (rules.Lookup) from GitHub, with short-lived caches:
// code-of-conduct locations are conditional reads (ETag), permissions are kept for a few minutes.
type Lookups struct {
	clients Clients
	clock   Clock
	ttl     time.Duration
	log     *zap.Logger
	files   *lru.Cache[string, lookedUpFile]
	perms   *lru.Cache[string, cachedPermission]
	flight  singleflight.Group // concurrent events asking the same thing ask GitHub once
}

// lookedUpFile is what a community profile or a directory listing told: the code of conduct's
// and the security policy's html_url, if there.
type lookedUpFile struct {
	etag     string
	coc      string
	security string
	missing  bool
	checked  time.Time
}

type cachedPermission struct {
	level   string
	checked time.Time
}

// LookupOption changes a Lookups' defaults.
type LookupOption func(*Lookups) error

// WithLookupTTL sets how long answers are used without asking GitHub again (default 5 min).
func WithLookupTTL(d time.Duration) LookupOption {
	return func(l *Lookups) error {
		if d < 0 {
			return fmt.Errorf("negative lookup TTL %s", d)
		}
		l.ttl = d
		return nil
	}
}

// WithLookupClock replaces the clock (tests).
func WithLookupClock(c Clock) LookupOption {
	return func(l *Lookups) error {
		if c == nil {
			return errors.New("nil clock")
		}
		l.clock = c
		return nil
	}
}

// WithLookupLogger sets the logger (default: none).
func WithLookupLogger(log *zap.Logger) LookupOption {
	return func(l *Lookups) error {
		if log == nil {
			return errors.New("nil logger")
		}
		l.log = log
		return nil
	}
}

// NewLookups returns Lookups over the installations' clients.
func NewLookups(clients Clients, opts ...LookupOption) (*Lookups, error) {
	if clients == nil {
		return nil, errors.New("ghapp: lookups need clients")
	}
	l := &Lookups{clients: clients, clock: realClock{}, ttl: 5 * time.Minute, log: zap.NewNop(),
		files: lru.New[string, lookedUpFile](10000), perms: lru.New[string, cachedPermission](10000)}
	for _, opt := range opts {
		if err := opt(l); err != nil {
			return nil, fmt.Errorf("ghapp: %w", err)
		}
	}
	return l, nil
}

// For is the rules.Lookup of one event (the worker's WorkerConfig.Lookup): each answer is
// fetched at most once for the event.
func (l *Lookups) For(t rules.Target) rules.Lookup {
	return &lookup{l: l, t: t, perms: map[string]string{}}
}

type lookup struct {
	l       *Lookups
	t       rules.Target
	coc     string
	cocDone bool
	perms   map[string]string
}

var _ rules.Lookup = (*lookup)(nil)

// CodeOfConductURL implements rules.Lookup: the repository's code of conduct as GitHub's
// community profile reports it (public repositories), else the first file named
// CODE_OF_CONDUCT.md in any case at the root, in .github/ or in docs/; then the same in the
// owner's .github repository; else "". Every answer is a conditional, cached read.
func (x *lookup) CodeOfConductURL(ctx context.Context) (string, error) {
	if x.cocDone {
		return x.coc, nil
	}
	// The repository's community profile (public repositories only) and its folders are
	// asked in one round, the profile's answer first; then the owner's .github repository.
	// Asking the folders only after the profile said nothing cost a round trip (hundreds of
	// milliseconds) on every newcomer's first issue without a profile-listed code of conduct,
	// where asking them anyway costs a public repository with one at most three requests per
	// TTL (the folders that exist are revalidated with If-None-Match, which GitHub does not
	// count). A private repository has no profile to ask.
	first := placesIn(x.t.Name, dirSuffixes())
	if !x.t.Private {
		first = append([]place{{x.t.Name, "community/profile"}}, first...)
	}
	rounds := [][]place{first}
	if !strings.EqualFold(x.t.Name, OrgConfigRepo) {
		rounds = append(rounds, placesIn(OrgConfigRepo, append([]string{"community/profile"}, dirSuffixes()...)))
	}
	coc, err := x.firstIn(ctx, rounds, func(f lookedUpFile) string { return f.coc })
	if err != nil {
		return "", err
	}
	x.coc, x.cocDone = coc, true
	return coc, nil
}

// firstIn asks each round's places at once, round after round, and gives what pick finds in
// the first place, in order, that has it: GitHub answers in hundreds of milliseconds, and eight
// places asked one after the other made a cold event seconds slower.
//
// A round in another repository (the owner's .github, which most owners do not have) is asked
// only if that repository exists: whether it does is asked alongside the round before, so a
// missing one costs one request and no round trip of its own instead of three or four 404s.
func (x *lookup) firstIn(ctx context.Context, rounds [][]place, pick func(lookedUpFile) string) (string, error) {
	for i, round := range rounds {
		if repo, ok := x.elsewhere(round); ok && i > 0 {
			// Asked with the round before (cached since).
			if f, err := x.l.file(ctx, x.t.InstallationID, x.t.Owner, repo, ""); err == nil && f.missing {
				continue
			}
		}
		asked := round
		if i+1 < len(rounds) {
			if repo, ok := x.elsewhere(rounds[i+1]); ok {
				asked = append(slices.Clone(round), place{repo, ""})
			}
		}
		files := make([]lookedUpFile, len(asked))
		errs := make([]error, len(asked))
		var wg sync.WaitGroup
		for i, p := range asked {
			wg.Go(func() { files[i], errs[i] = x.l.file(ctx, x.t.InstallationID, x.t.Owner, p.repo, p.suffix) })
		}
		wg.Wait()
		for i, f := range files[:len(round)] {
			if errs[i] != nil {
				return "", errs[i]
			}
			if v := pick(f); v != "" {
				return v, nil
			}
		}
	}
	return "", nil
}

// elsewhere is the repository of a round in a repository other than the event's.
func (x *lookup) elsewhere(round []place) (string, bool) {
	if len(round) == 0 || strings.EqualFold(round[0].repo, x.t.Name) {
		return "", false
	}
	return round[0].repo, true
}

// dirSuffixes are the API paths listing CodeOfConductDirs.
func dirSuffixes() []string {
	var out []string
	for _, dir := range CodeOfConductDirs {
		out = append(out, "contents/"+dir)
	}
	return out
}

// place is where a code of conduct or a security policy may be: an API path under a repository
// ("" for the repository itself: whether it exists).
type place struct{ repo, suffix string }

func placesIn(repo string, suffixes []string) []place {
	out := make([]place, len(suffixes))
	for i, s := range suffixes {
		out[i] = place{repo, s}
	}
	return out
}

// lookedUp reads an answer: a community profile names the code of conduct; a directory
// listing may hold it and SECURITY.md (in any case); anything else (a file) holds neither.
func lookedUp(suffix string, body []byte) (coc, security string) {
	if suffix == "community/profile" {
		var p struct {
			Files struct {
				File *struct {
					HTMLURL string `json:"html_url"`
				} `json:"code_of_conduct_file"`
			} `json:"files"`
		}
		if json.Unmarshal(body, &p) == nil && p.Files.File != nil {
			return p.Files.File.HTMLURL, ""
		}
		return "", ""
	}
	var entries []struct {
		Type    string `json:"type"`
		Name    string `json:"name"`
		HTMLURL string `json:"html_url"`
	}
	if json.Unmarshal(body, &entries) != nil {
		return "", ""
	}
	for _, e := range entries {
		switch {
		case e.Type != "file":
		case coc == "" && isCodeOfConduct(e.Name):
			coc = e.HTMLURL
		case security == "" && strings.EqualFold(e.Name, "SECURITY.md"):
			security = e.HTMLURL
		}
	}
	return coc, security
}

func (l *Lookups) file(ctx context.Context, installationID int64, owner, repo, path string) (lookedUpFile, error) {
	key := strings.ToLower(fmt.Sprintf("%d/%s/%s/%s", installationID, owner, repo, path))
	return shared(ctx, &l.flight, "file/"+key, func(ctx context.Context) (lookedUpFile, error) {
		return l.fetchFile(ctx, key, installationID, owner, repo, path)
	})
}

// sharedFetchTimeout bounds a fetch that concurrent callers share.
const sharedFetchTimeout = time.Minute

// shared runs fetch once for the concurrent callers of one key. The fetch belongs to none of
// them: it runs on ctx's values without its cancellation (bounded by sharedFetchTimeout), so
// the first caller's event being interrupted does not fail the others that wait for it; a
// caller whose ctx ends stops waiting.
func shared[T any](ctx context.Context, g *singleflight.Group, key string, fetch func(context.Context) (T, error)) (T, error) {
	ch := g.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedFetchTimeout)
		defer cancel()
		return fetch(fctx)
	})
	var zero T
	select {
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(T), nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

func (l *Lookups) fetchFile(ctx context.Context, key string, installationID int64, owner, repo, path string) (lookedUpFile, error) {
	f, cached := l.files.Get(key)
	now := l.clock.Now()
	if cached && now.Sub(f.checked) < l.ttl {
		return f, nil
	}
	etag := ""
	if cached && !f.missing {
		etag = f.etag
	}
	u := fmt.Sprintf("repos/%s/%s", url.PathEscape(owner), url.PathEscape(repo))
	if path != "" {
		u += "/" + escapePath(path)
	}
	res, err := getJSON(ctx, l.clients.Installation(installationID), u, etag)
	if err != nil {
		if cached {
			l.log.Warn("lookup not revalidated: using the cached answer", zap.String("repo", owner+"/"+repo), zap.String("path", path), zap.Error(err))
			return f, nil
		}
		return lookedUpFile{}, err
	}
	switch res.Status {
	case http.StatusNotModified:
		f.checked = now
	case http.StatusNotFound:
		f = lookedUpFile{missing: true, checked: now}
	default:
		f = lookedUpFile{etag: res.ETag, checked: now}
		f.coc, f.security = lookedUp(path, res.Body)
	}
	l.files.Put(key, f)
	return f, nil
}

// The permission levels Permission returns.
var permissionLevels = map[string]bool{"admin": true, "maintain": true, "write": true, "triage": true, "read": true, "none": true}

// Permission implements rules.Lookup: the user's role on the repository (admin, maintain,
// write, triage, read or none), from GitHub's role_name where it gives one.
func (x *lookup) Permission(ctx context.Context, login string) (string, error) {
	lower := strings.ToLower(login)
	if p, ok := x.perms[lower]; ok {
		return p, nil
	}
	p, err := x.l.permission(ctx, x.t, login)
	if err != nil {
		return "", err
	}
	x.perms[lower] = p
	return p, nil
}

func (l *Lookups) permission(ctx context.Context, t rules.Target, login string) (string, error) {
	key := strings.ToLower(fmt.Sprintf("%d/%s/%s/%s", t.InstallationID, t.Owner, t.Name, login))
	return shared(ctx, &l.flight, "perm/"+key, func(ctx context.Context) (string, error) { return l.fetchPermission(ctx, key, t, login) })
}

func (l *Lookups) fetchPermission(ctx context.Context, key string, t rules.Target, login string) (string, error) {
	now := l.clock.Now()
	if c, ok := l.perms.Get(key); ok && now.Sub(c.checked) < l.ttl {
		return c.level, nil
	}
	gh := l.clients.Installation(t.InstallationID)
	u := fmt.Sprintf("repos/%s/%s/collaborators/%s/permission", url.PathEscape(t.Owner), url.PathEscape(t.Name), url.PathEscape(login))
	req, err := gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return "", &PermanentError{Err: err}
	}
	var body struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
	}
	level := "none"
	if _, err := gh.Do(ctx, req, &body); err != nil {
		if statusOf(err) != http.StatusNotFound {
			return "", fmt.Errorf("permission of %s on %s: %w", login, t.FullName(), Classify(err))
		}
	} else {
		level = strings.ToLower(body.Permission)
		if r := strings.ToLower(body.RoleName); permissionLevels[r] {
			level = r
		}
		if !permissionLevels[level] {
			level = "none"
		}
	}
	l.perms.Put(key, cachedPermission{level: level, checked: now})
	return level, nil
}
