package ghapp

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

	"github.com/triagebot/triagebot/internal/lru"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// ConfigPath is where a repository (and an organisation's .github repository) keeps its
// configuration, on the default branch.
const ConfigPath = ".github/triagebot.yml"

// OrgConfigRepo is the organisation's repository whose ConfigPath applies to all its repositories.
const OrgConfigRepo = ".github"

// ConfigLoader gives a repository's effective configuration: the server defaults, overlaid with
// the organisation's .github/triagebot.yml (in its .github repository), overlaid with the
// repository's own. Files are cached in a JetStream KV bucket with their ETags and revalidated
// (conditionally) at most once per revalidation period, or after Invalidate. Concurrent loads
// of one file in a process ask GitHub once, and a parsed configuration is kept by the versions
// of its files, so an event costs no parsing while they are unchanged.
//
// A file that cannot be used, whatever the reason (broken YAML, an unknown key, over
// rules.MaxConfigSize, too large for GitHub's contents API, a 403), is replaced by its last good
// version, else left out: the event is handled. Only GitHub being unreachable (a network error,
// a 5xx, a rate limit) with nothing cached is an error, for the event to be retried.
type ConfigLoader struct {
	clients    Clients
	kv         jetstream.KeyValue
	defaults   rules.Config
	revalidate time.Duration
	clock      Clock
	log        *zap.Logger
	report     func(ctx context.Context, r ConfigReport)

	flight singleflight.Group
	parsed *lru.Cache[string, LoadedConfig]
}

// ConfigReport says that a configuration file became unusable, or usable again. It is made
// once per version of the file (by the process that fetched it), for the audit trail.
type ConfigReport struct {
	InstallationID int64
	RepoID         int64  // the repository of the event that loaded the file; 0 when unknown
	Repo           string // that repository, owner/name
	File           string // the repository holding the file, owner/name
	Path           string
	Problem        string // why the file is not used as written; "" when it is usable again
	Note           string // or something else the audit trail should say (a label adopted)
	UsedLastGood   bool   // the last good version is used instead; else the file is left out
}

// ConfigOption changes a ConfigLoader's defaults.
type ConfigOption func(*ConfigLoader) error

// WithRevalidateAfter sets how long a cached file is used without asking GitHub (default 5 min).
func WithRevalidateAfter(d time.Duration) ConfigOption {
	return func(l *ConfigLoader) error {
		if d < 0 {
			return fmt.Errorf("negative revalidation period %s", d)
		}
		l.revalidate = d
		return nil
	}
}

// WithConfigClock replaces the clock (tests).
func WithConfigClock(c Clock) ConfigOption {
	return func(l *ConfigLoader) error {
		if c == nil {
			return errors.New("nil clock")
		}
		l.clock = c
		return nil
	}
}

// WithConfigLogger sets the logger (default: none).
func WithConfigLogger(log *zap.Logger) ConfigOption {
	return func(l *ConfigLoader) error {
		if log == nil {
			return errors.New("nil logger")
		}
		l.log = log
		return nil
	}
}

// WithConfigReporter is told when a file becomes unusable or usable again (the audit trail).
func WithConfigReporter(report func(ctx context.Context, r ConfigReport)) ConfigOption {
	return func(l *ConfigLoader) error {
		if report == nil {
			return errors.New("nil reporter")
		}
		l.report = report
		return nil
	}
}

// parsedConfigs bounds the parsed configurations kept in a process (one per repository in use).
const parsedConfigs = 2000

// NewConfigLoader returns a ConfigLoader over the installations' clients and the configuration
// cache bucket (queue.ConfigBucket); defaults are the server defaults (rules.DefaultConfig()
// overlaid with TRIAGEBOT_CONFIG's).
func NewConfigLoader(clients Clients, kv jetstream.KeyValue, defaults rules.Config, opts ...ConfigOption) (*ConfigLoader, error) {
	if clients == nil || kv == nil {
		return nil, errors.New("ghapp: config loader needs clients and a KV bucket")
	}
	l := &ConfigLoader{clients: clients, kv: kv, defaults: defaults, revalidate: 5 * time.Minute, clock: realClock{}, log: zap.NewNop(),
		report: func(context.Context, ConfigReport) {}, parsed: lru.New[string, LoadedConfig](parsedConfigs)}
	for _, opt := range opts {
		if err := opt(l); err != nil {
			return nil, fmt.Errorf("ghapp: %w", err)
		}
	}
	return l, nil
}

// LoadedConfig is a repository's effective configuration and how it was made. It is shared by
// the events of the repository: read it, never change it.
type LoadedConfig struct {
	Config rules.Config
	// Sources are the files applied over the defaults, in order ("owner/.github", "owner/repo").
	Sources []string
	// ParseErr is not fatal: a file is broken (a *FileError, several joined), and Config uses
	// its last good version, or leaves it out. Config.Problems says the same for /why.
	ParseErr error
}

// FileError is a configuration file that cannot be used.
type FileError struct {
	Repo         string // owner/name
	Path         string
	Err          error // a *rules.ConfigError, a *FileTooLargeError, or GitHub's refusal
	UsedLastGood bool  // the last version that parsed is in use; else the file is ignored
}

func (e *FileError) Error() string {
	fallback := "ignored"
	if e.UsedLastGood {
		fallback = "using its last good version"
	}
	return fmt.Sprintf("%s %s (%s): %v", e.Repo, e.Path, fallback, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// cachedFile is a configuration cache entry: JSON in the KV bucket, without the contents,
// which are kept under their own keys (BodyKey, GoodKey), so that an event reads only this
// small entry while the parsed configuration of its versions is in the process.
type cachedFile struct {
	ETag        string    `json:"etag,omitempty"`
	Version     string    `json:"version,omitempty"` // the content's identity: blob sha, else ETag
	Body        []byte    `json:"body,omitempty"`    // the file as GitHub last gave it (in memory, or an old entry)
	BodyKey     string    `json:"body_key,omitempty"`
	Missing     bool      `json:"missing,omitempty"`
	Good        []byte    `json:"good,omitempty"` // the last version that parsed (in memory, or an old entry)
	GoodKey     string    `json:"good_key,omitempty"`
	GoodVersion string    `json:"good_version,omitempty"`
	HasGood     bool      `json:"has_good,omitempty"`
	ParseError  string    `json:"parse_error,omitempty"` // why the current version is not used
	FetchedAt   time.Time `json:"fetched_at"`            // when GitHub was last asked (200, 304 or 404)
	Stale       bool      `json:"stale,omitempty"`
	// Unreported: the last change of ParseError was seen without a repository ID to audit it
	// under (a push or an installation); the next event of the repository reports it.
	Unreported bool `json:"unreported,omitempty"`
	// Aliases are labels of the configuration that the repository has under another name
	// (adopted by EnsureLabels): configured name, lower case → the repository's.
	Aliases map[string]string `json:"aliases,omitempty"`
	// Pending are notes for the audit trail seen without a repository ID (adoptions).
	Pending []string `json:"pending,omitempty"`
}

// Config implements the worker's ConfigSource: a broken file is logged (once per version, when
// it is fetched) and named in Config.Problems, not returned.
func (l *ConfigLoader) Config(ctx context.Context, t rules.Target) (rules.Config, error) {
	if t.Owner == "" || t.Name == "" || t.InstallationID == 0 {
		return l.defaults, nil // an event of no repository (installation events)
	}
	loaded, err := l.load(ctx, t)
	if err != nil {
		return rules.Config{}, err
	}
	return loaded.Config, nil
}

// Load gives owner/repo's effective configuration. The error is for when GitHub could not be
// reached and nothing is cached (the event should be retried, not handled with the wrong
// configuration); a file that cannot be used is LoadedConfig.ParseErr.
func (l *ConfigLoader) Load(ctx context.Context, installationID int64, owner, repo string) (LoadedConfig, error) {
	return l.load(ctx, rules.Target{InstallationID: installationID, Owner: owner, Name: repo})
}

// LoadFor is Load for an event's target: a problem with the file is audited in its repository.
func (l *ConfigLoader) LoadFor(ctx context.Context, t rules.Target) (LoadedConfig, error) {
	return l.load(ctx, t)
}

func (l *ConfigLoader) load(ctx context.Context, t rules.Target) (LoadedConfig, error) {
	layers := []string{OrgConfigRepo, t.Name}
	if strings.EqualFold(t.Name, OrgConfigRepo) {
		layers = layers[:1]
	}
	files := make([]cachedFile, len(layers))
	key := strings.ToLower(t.Owner + "/" + t.Name)
	for i, name := range layers {
		f, err := l.file(ctx, t, name)
		if err != nil {
			return LoadedConfig{}, err
		}
		files[i] = f
		key += "|" + f.Version + "/" + f.GoodVersion
		if f.Missing {
			key += "-"
		}
		for _, from := range slices.Sorted(maps.Keys(f.Aliases)) {
			key += "|" + from + "=" + f.Aliases[from]
		}
	}
	if out, ok := l.parsed.Get(key); ok {
		return out, nil
	}
	out := LoadedConfig{Config: l.defaults}
	var problems []error
	for i, name := range layers {
		f := files[i]
		if f.Missing {
			continue
		}
		full := t.Owner + "/" + name
		var err error
		if f.Body, err = l.content(ctx, f.BodyKey, f.Body); err != nil {
			return LoadedConfig{}, err
		}
		if f.HasGood {
			if f.Good, err = l.content(ctx, f.GoodKey, f.Good); err != nil {
				return LoadedConfig{}, err
			}
		}
		var perr error
		if f.ParseError == "" {
			var cfg rules.Config
			if cfg, perr = rules.ParseConfig(out.Config, f.Body); perr == nil {
				out.Config = cfg
				out.Sources = append(out.Sources, full)
				continue
			}
		} else if f.Body != nil {
			_, perr = rules.ParseConfig(out.Config, f.Body) // the error with its lines
		}
		if perr == nil {
			perr = errors.New(f.ParseError)
		}
		fe := &FileError{Repo: full, Path: ConfigPath, Err: perr}
		if f.HasGood {
			if cfg, err := rules.ParseConfig(out.Config, f.Good); err == nil {
				out.Config, fe.UsedLastGood = cfg, true
				out.Sources = append(out.Sources, full)
			}
		}
		problems = append(problems, fe)
	}
	out.Config = withAliases(out.Config, files[len(files)-1].Aliases)
	out.ParseErr = errors.Join(problems...)
	if len(problems) > 0 {
		out.Config = out.Config.WithProblems(problems)
	}
	l.parsed.Put(key, out)
	return out, nil
}

// file is owner/repo's configuration file, from the cache or (conditionally) from GitHub; the
// events of one process that want it at once share one fetch.
func (l *ConfigLoader) file(ctx context.Context, t rules.Target, repo string) (cachedFile, error) {
	return shared(ctx, &l.flight, ConfigKey(t.Owner, repo), func(ctx context.Context) (cachedFile, error) { return l.fetchFile(ctx, t, repo) })
}

func (l *ConfigLoader) fetchFile(ctx context.Context, t rules.Target, repo string) (cachedFile, error) {
	owner := t.Owner
	key := ConfigKey(owner, repo)
	log := l.log.With(zap.String("repo", owner+"/"+repo))
	var f cachedFile
	cached := false
	if e, err := l.kv.Get(ctx, key); err == nil {
		if err := json.Unmarshal(e.Value(), &f); err == nil {
			cached = true
		} else {
			log.Warn("configuration cache entry unreadable: fetching again", zap.Error(err))
			f = cachedFile{}
		}
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		log.Warn("configuration cache unavailable", zap.Error(err))
	}
	now := l.clock.Now()
	base := f // as read: what store compares the entry with before replacing it
	if cached && !f.Stale && now.Sub(f.FetchedAt) < l.revalidate {
		if l.flush(ctx, t, owner+"/"+repo, &f) {
			l.store(ctx, key, base, f)
		}
		return f, nil
	}
	etag := ""
	if cached && !f.Missing {
		etag = f.ETag
	}
	res, err := getFile(ctx, l.clients.Installation(t.InstallationID), owner, repo, ConfigPath, etag, rules.MaxConfigSize)
	next := f
	next.FetchedAt, next.Stale = now, false
	switch {
	case err != nil && !queue.IsPermanent(err):
		// GitHub unreachable, a rate limit, the App's credentials: nothing is known of the file.
		if cached {
			log.Warn("configuration not revalidated: using the cached file", zap.Error(err))
			return f, nil
		}
		return cachedFile{}, err
	case err != nil:
		// GitHub answered, but the file cannot be used.
		next.Body, next.BodyKey, next.Missing, next.ETag = nil, "", false, ""
		next.ParseError = unusable(err)
		var tl *FileTooLargeError
		if errors.As(err, &tl) {
			next.ETag = tl.ETag
		}
		next.Version = "unusable:" + contentID(nil, next.ParseError)
	case res.Status == http.StatusNotModified:
	case res.Status == http.StatusNotFound:
		next = cachedFile{Missing: true, FetchedAt: now, Aliases: f.Aliases, Pending: f.Pending, Unreported: f.Unreported}
	default:
		next.ETag, next.Body, next.Missing, next.ParseError = res.ETag, res.Body, false, ""
		next.Version = cmp.Or(res.SHA, res.ETag, contentID(res.Body, ""))
		if _, perr := rules.ParseConfig(l.defaults, res.Body); perr != nil {
			next.ParseError = perr.Error()
		} else {
			next.Good, next.GoodVersion, next.HasGood = res.Body, next.Version, true
		}
	}
	if l.changed(ctx, t, owner+"/"+repo, f, next) {
		next.Unreported = t.RepoID == 0
	} else {
		l.flush(ctx, t, owner+"/"+repo, &next)
	}
	l.store(ctx, key, base, next)
	return next, nil
}

// flush reports what was seen without a repository ID, now that an event gives one; it says
// whether f changed.
func (l *ConfigLoader) flush(ctx context.Context, t rules.Target, file string, f *cachedFile) bool {
	if t.RepoID == 0 || !f.Unreported && len(f.Pending) == 0 {
		return false
	}
	if f.Unreported {
		l.report(ctx, l.reportOf(t, file, *f))
	}
	for _, note := range f.Pending {
		r := l.reportOf(t, file, *f)
		r.Problem, r.Note = "", note
		l.report(ctx, r)
	}
	f.Unreported, f.Pending = false, nil
	return true
}

// Adopt records that owner/repo has the configuration's labels under other names (configured
// → existing, from EnsureLabels): its configuration uses those names from now on, and the
// repository's audit trail says so.
func (l *ConfigLoader) Adopt(ctx context.Context, owner, repo string, adopted map[string]string) error {
	if len(adopted) == 0 {
		return nil
	}
	_, err := updateJSON(ctx, l.kv, ConfigKey(owner, repo), 20, func(f *cachedFile) bool {
		if f.FetchedAt.IsZero() {
			f.Stale = true // never fetched: fetch it at the next load
		}
		if f.Aliases == nil {
			f.Aliases = map[string]string{}
		}
		for _, from := range slices.Sorted(maps.Keys(adopted)) {
			f.Aliases[strings.ToLower(from)] = adopted[from]
			f.Pending = append(f.Pending, fmt.Sprintf("label %q adopted for %q: the repository's label differs only by case, spaces, dashes or a status prefix", adopted[from], from))
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("adopt labels in %s/%s: %w", owner, repo, err)
	}
	return nil
}

// withAliases makes cfg use the repository's names of its labels; the adopted names are not
// triage either.
func withAliases(cfg rules.Config, aliases map[string]string) rules.Config {
	if len(aliases) == 0 {
		return cfg
	}
	rename := func(name string) string {
		if to, ok := aliases[strings.ToLower(name)]; ok {
			return to
		}
		return name
	}
	out, _ := rules.ParseConfig(cfg, nil) // a deep copy
	out.NeedsTriage.Label = rename(out.NeedsTriage.Label)
	for i, lv := range out.Priority.Levels {
		out.Priority.Levels[i].Label = rename(lv.Label)
	}
	for _, to := range aliases {
		out.NeedsTriage.NotTriageLabels = append(out.NeedsTriage.NotTriageLabels, regexp.QuoteMeta(to))
	}
	slices.Sort(out.NeedsTriage.NotTriageLabels[len(out.NeedsTriage.NotTriageLabels)-len(aliases):])
	return out
}

// unusable says why GitHub's answer gives no usable file.
func unusable(err error) string {
	var tl *FileTooLargeError
	if errors.As(err, &tl) {
		return tl.Error()
	}
	if s := statusOf(err); s != 0 {
		return fmt.Sprintf("GitHub refused to give the file (HTTP %d): %v", s, err)
	}
	return err.Error()
}

// contentKey is the key of a file's content: its entry's key and the content's hash.
func contentKey(key string, data []byte) string {
	return "body." + strings.TrimPrefix(key, "file.") + "." + contentID(data, "")
}

// contentID identifies content (or a problem) that GitHub gave no sha or ETag for.
func contentID(body []byte, problem string) string {
	h := sha256.New()
	h.Write(body)
	h.Write([]byte(problem))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// changed logs a file that became unusable (once per version) or usable again, and reports it
// when the event's repository is known. It says whether there was something to say.
func (l *ConfigLoader) changed(ctx context.Context, t rules.Target, file string, before, after cachedFile) bool {
	if after.ParseError == before.ParseError && (after.ParseError == "" || after.Version == before.Version) {
		return false
	}
	r := l.reportOf(t, file, after)
	log := l.log.With(zap.String("repo", file), zap.String("path", ConfigPath), zap.Int64("installation_id", t.InstallationID))
	if r.Problem == "" {
		log.Info("configuration file is usable again")
	} else {
		log.Warn("configuration file cannot be used: keeping the last good one, else the defaults",
			zap.Bool("has_last_good", r.UsedLastGood), zap.String("problem", r.Problem))
	}
	if t.RepoID != 0 {
		l.report(ctx, r)
	}
	return true
}

func (l *ConfigLoader) reportOf(t rules.Target, file string, f cachedFile) ConfigReport {
	return ConfigReport{InstallationID: t.InstallationID, RepoID: t.RepoID, Repo: t.FullName(), File: file, Path: ConfigPath,
		Problem: f.ParseError, UsedLastGood: f.HasGood && f.ParseError != ""}
}

// content is a file's content: in memory, else under its key.
func (l *ConfigLoader) content(ctx context.Context, key string, inline []byte) ([]byte, error) {
	if inline != nil || key == "" {
		return inline, nil
	}
	e, err := l.kv.Get(ctx, key)
	if err != nil {
		// Lost (a bucket purged by hand): revalidating fetches it again.
		return nil, &TransientError{Err: fmt.Errorf("configuration cache %s: %w", key, err)}
	}
	return e.Value(), nil
}

// store writes the entry f, made from base (the entry as read), and the contents it holds in
// memory under keys of their own (by content); contents no longer named are deleted. If the
// entry changed since base was read (another process adopted labels, invalidated it, or
// fetched it too), what that change added is kept: see mergeEntry.
func (l *ConfigLoader) store(ctx context.Context, key string, base, f cachedFile) {
	put := func(data []byte) string {
		k := contentKey(key, data)
		if k != base.BodyKey && k != base.GoodKey {
			if _, err := l.kv.Put(ctx, k, data); err != nil {
				l.log.Warn("configuration cache not updated", zap.String("key", k), zap.Error(err))
			}
		}
		return k
	}
	if f.Body != nil {
		f.BodyKey = put(f.Body)
	}
	if f.Good != nil {
		f.GoodKey = put(f.Good)
	}
	f.Body, f.Good = nil, nil
	var replaced cachedFile
	if _, err := updateJSON(ctx, l.kv, key, 20, func(cur *cachedFile) bool {
		replaced = *cur
		*cur = mergeEntry(replaced, base, f)
		return true
	}); err != nil {
		l.log.Warn("configuration cache not updated", zap.String("key", key), zap.Error(err))
		return
	}
	for _, k := range []string{replaced.BodyKey, replaced.GoodKey} {
		if k != "" && k != f.BodyKey && k != f.GoodKey {
			_ = l.kv.Delete(ctx, k)
		}
	}
}

// mergeEntry is the entry to write over cur: f, made from base. If cur is not base any more,
// another writer changed it meanwhile, and f keeps what that writer added: its adopted labels,
// its notes still to report, and a request to revalidate (an invalidation after f's fetch
// began means f may be the file from before the push).
func mergeEntry(cur, base, f cachedFile) cachedFile {
	if reflect.DeepEqual(cur, base) {
		return f
	}
	for from, to := range cur.Aliases {
		if _, ok := f.Aliases[from]; !ok {
			f.Aliases = maps.Clone(f.Aliases)
			if f.Aliases == nil {
				f.Aliases = map[string]string{}
			}
			f.Aliases[from] = to
		}
	}
	for _, note := range cur.Pending {
		if !slices.Contains(base.Pending, note) && !slices.Contains(f.Pending, note) {
			f.Pending = append(slices.Clip(f.Pending), note)
		}
	}
	f.Stale = f.Stale || cur.Stale
	return f
}

// Invalidate makes the next Load of owner/repo revalidate its file with GitHub (the worker
// calls it on a push to the default branch that touches ConfigPath; for owner/.github it
// applies to every repository of the owner). The cached file and its last good version are
// kept, so a broken push still falls back to them; so is anything written meanwhile.
func (l *ConfigLoader) Invalidate(ctx context.Context, owner, repo string) error {
	if _, err := updateJSON(ctx, l.kv, ConfigKey(owner, repo), 20, func(f *cachedFile) bool {
		if f.Stale || reflect.ValueOf(*f).IsZero() {
			return false // already due, or never cached (an unreadable entry is fetched again)
		}
		f.Stale = true
		return true
	}); err != nil {
		return fmt.Errorf("invalidate configuration of %s/%s: %w", owner, repo, err)
	}
	return nil
}

// TouchesConfig reports whether a push's changed paths include the configuration file.
func TouchesConfig(paths []string) bool {
	for _, p := range paths {
		if strings.EqualFold(strings.TrimPrefix(p, "/"), ConfigPath) {
			return true
		}
	}
	return false
}

// Repositories are the owner's repositories whose configuration the bot has loaded (every
// repository it was installed on since the cache began), for a change of the organisation's
// defaults to reach them all.
func (l *ConfigLoader) Repositories(ctx context.Context, owner string) ([]string, error) {
	keys, err := l.kv.ListKeysFiltered(ctx, "file."+kvToken(owner)+".*")
	if err != nil {
		return nil, fmt.Errorf("repositories of %s: %w", owner, err)
	}
	var out []string
	for k := range keys.Keys() {
		if full, ok := parseConfigKey(k); ok {
			if _, name, _ := strings.Cut(full, "/"); name != "" {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
