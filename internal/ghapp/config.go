package ghapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

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
// (conditionally) at most once per revalidation period, or after Invalidate.
type ConfigLoader struct {
	clients    Clients
	kv         jetstream.KeyValue
	defaults   rules.Config
	revalidate time.Duration
	clock      Clock
	log        *zap.Logger
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

// NewConfigLoader returns a ConfigLoader over the installations' clients and the configuration
// cache bucket (queue.ConfigBucket); defaults are the server defaults (rules.DefaultConfig()
// overlaid with TRIAGEBOT_CONFIG's).
func NewConfigLoader(clients Clients, kv jetstream.KeyValue, defaults rules.Config, opts ...ConfigOption) (*ConfigLoader, error) {
	if clients == nil || kv == nil {
		return nil, errors.New("ghapp: config loader needs clients and a KV bucket")
	}
	l := &ConfigLoader{clients: clients, kv: kv, defaults: defaults, revalidate: 5 * time.Minute, clock: realClock{}, log: zap.NewNop()}
	for _, opt := range opts {
		if err := opt(l); err != nil {
			return nil, fmt.Errorf("ghapp: %w", err)
		}
	}
	return l, nil
}

// LoadedConfig is a repository's effective configuration and how it was made.
type LoadedConfig struct {
	Config rules.Config
	// Sources are the files applied over the defaults, in order ("owner/.github", "owner/repo").
	Sources []string
	// ParseErr is not fatal: a file is broken (a *FileError, several joined), and Config uses
	// its last good version, or leaves it out. Maintainers should be told.
	ParseErr error
}

// FileError is a broken configuration file.
type FileError struct {
	Repo         string // owner/name
	Path         string
	Err          error // a *rules.ConfigError
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

// cachedFile is a configuration cache entry (JSON in the KV bucket).
type cachedFile struct {
	ETag       string    `json:"etag,omitempty"`
	Body       []byte    `json:"body,omitempty"` // the file as GitHub last gave it
	Missing    bool      `json:"missing,omitempty"`
	Good       []byte    `json:"good,omitempty"` // the last version that parsed
	HasGood    bool      `json:"has_good,omitempty"`
	ParseError string    `json:"parse_error,omitempty"`
	FetchedAt  time.Time `json:"fetched_at"` // when GitHub was last asked (200, 304 or 404)
	Stale      bool      `json:"stale,omitempty"`
}

// Config implements the worker's ConfigSource: a broken file is logged, not returned.
func (l *ConfigLoader) Config(ctx context.Context, t rules.Target) (rules.Config, error) {
	if t.Owner == "" || t.Name == "" || t.InstallationID == 0 {
		return l.defaults, nil // an event of no repository (installation events)
	}
	loaded, err := l.Load(ctx, t.InstallationID, t.Owner, t.Name)
	if err != nil {
		return rules.Config{}, err
	}
	if loaded.ParseErr != nil {
		// Logged as a warning once per change of the file, when it is fetched.
		l.log.Debug("broken configuration file", zap.String("repo", t.FullName()), zap.Int64("installation_id", t.InstallationID), zap.Error(loaded.ParseErr))
	}
	return loaded.Config, nil
}

// Load gives owner/repo's effective configuration. The error is for when a file could not be
// read and nothing is cached (the event should be retried, not handled with the wrong
// configuration); a broken file is LoadedConfig.ParseErr.
func (l *ConfigLoader) Load(ctx context.Context, installationID int64, owner, repo string) (LoadedConfig, error) {
	out := LoadedConfig{Config: l.defaults}
	layers := []string{OrgConfigRepo, repo}
	if strings.EqualFold(repo, OrgConfigRepo) {
		layers = layers[:1]
	}
	var parseErrs []error
	for _, name := range layers {
		f, err := l.file(ctx, installationID, owner, name)
		if err != nil {
			return LoadedConfig{}, err
		}
		if f.Missing {
			continue
		}
		full := owner + "/" + name
		cfg, perr := rules.ParseConfig(out.Config, f.Body)
		if perr == nil {
			out.Config = cfg
			out.Sources = append(out.Sources, full)
			continue
		}
		fe := &FileError{Repo: full, Path: ConfigPath, Err: perr}
		if f.HasGood {
			if cfg, err := rules.ParseConfig(out.Config, f.Good); err == nil {
				out.Config, fe.UsedLastGood = cfg, true
				out.Sources = append(out.Sources, full)
			}
		}
		parseErrs = append(parseErrs, fe)
	}
	out.ParseErr = errors.Join(parseErrs...)
	return out, nil
}

// file is owner/repo's configuration file, from the cache or (conditionally) from GitHub.
func (l *ConfigLoader) file(ctx context.Context, installationID int64, owner, repo string) (cachedFile, error) {
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
	if cached && !f.Stale && now.Sub(f.FetchedAt) < l.revalidate {
		return f, nil
	}
	etag := ""
	if cached && !f.Missing {
		etag = f.ETag
	}
	res, err := getFile(ctx, l.clients.Installation(installationID), owner, repo, ConfigPath, etag)
	if err != nil {
		if cached {
			log.Warn("configuration not revalidated: using the cached file", zap.Error(err))
			return f, nil
		}
		return cachedFile{}, err
	}
	switch res.Status {
	case http.StatusNotModified:
		f.FetchedAt, f.Stale = now, false
	case http.StatusNotFound:
		f = cachedFile{Missing: true, FetchedAt: now}
	default:
		f.ETag, f.Body, f.Missing, f.FetchedAt, f.Stale = res.ETag, res.Body, false, now, false
		if _, perr := rules.ParseConfig(l.defaults, res.Body); perr != nil {
			f.ParseError = perr.Error()
			log.Warn("configuration file is broken: keeping the last good one", zap.Bool("has_last_good", f.HasGood), zap.Error(perr))
		} else {
			f.Good, f.HasGood, f.ParseError = res.Body, true, ""
		}
	}
	l.store(ctx, key, f)
	return f, nil
}

func (l *ConfigLoader) store(ctx context.Context, key string, f cachedFile) {
	data, err := json.Marshal(f)
	if err == nil {
		_, err = l.kv.Put(ctx, key, data)
	}
	if err != nil {
		l.log.Warn("configuration cache not updated", zap.String("key", key), zap.Error(err))
	}
}

// Invalidate makes the next Load of owner/repo revalidate its file with GitHub (the worker
// calls it on a push to the default branch that touches ConfigPath; for owner/.github it
// applies to every repository of the owner). The cached file and its last good version are
// kept, so a broken push still falls back to them.
func (l *ConfigLoader) Invalidate(ctx context.Context, owner, repo string) error {
	key := ConfigKey(owner, repo)
	e, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("invalidate configuration of %s/%s: %w", owner, repo, err)
	}
	var f cachedFile
	if err := json.Unmarshal(e.Value(), &f); err != nil {
		return l.kv.Delete(ctx, key)
	}
	f.Stale = true
	data, _ := json.Marshal(f)
	if _, err := l.kv.Update(ctx, key, data, e.Revision()); err != nil {
		// Changed meanwhile: a fresh fetch raced us; make sure it is revalidated anyway.
		if _, err := l.kv.Put(ctx, key, data); err != nil {
			return fmt.Errorf("invalidate configuration of %s/%s: %w", owner, repo, err)
		}
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
