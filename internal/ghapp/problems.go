package ghapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ConfigProblem is a repository whose .github/triagebot.yml is broken, as the configuration
// cache last saw it (the status page lists them).
type ConfigProblem struct {
	Repo      string // owner/name, lower-cased (the cache's keys are)
	Error     string
	UsingGood bool // its last good version is in use; else the file is ignored
	FetchedAt time.Time
}

// ConfigProblems lists the broken configuration files of the cache bucket.
func ConfigProblems(ctx context.Context, kv jetstream.KeyValue) ([]ConfigProblem, error) {
	w, err := kv.Watch(ctx, "file.*.*", jetstream.IgnoreDeletes()) // not the files' contents (body.*)
	if err != nil {
		return nil, fmt.Errorf("read configuration cache: %w", err)
	}
	defer w.Stop()
	var out []ConfigProblem
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("read configuration cache: %w", ctx.Err())
		case e := <-w.Updates():
			if e == nil { // every current value was given
				slices.SortFunc(out, func(a, b ConfigProblem) int { return strings.Compare(a.Repo, b.Repo) })
				return out, nil
			}
			var f cachedFile
			if json.Unmarshal(e.Value(), &f) != nil || f.ParseError == "" {
				continue
			}
			repo, ok := parseConfigKey(e.Key())
			if !ok {
				continue
			}
			out = append(out, ConfigProblem{Repo: repo, Error: f.ParseError, UsingGood: f.HasGood, FetchedAt: f.FetchedAt})
		}
	}
}

// parseConfigKey is ConfigKey's inverse: "file.octo-org.rocket" → "octo-org/rocket".
func parseConfigKey(key string) (string, bool) {
	tok := strings.Split(key, ".")
	if len(tok) != 3 || tok[0] != "file" {
		return "", false
	}
	owner, err1 := unKVToken(tok[1])
	repo, err2 := unKVToken(tok[2])
	if err := errors.Join(err1, err2); err != nil {
		return "", false
	}
	return owner + "/" + repo, true
}

func unKVToken(s string) (string, error) {
	if s == "=" {
		return "", nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			return "", fmt.Errorf("truncated escape in %q", s)
		}
		c, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("escape in %q: %w", s, err)
		}
		b.WriteByte(byte(c))
		i += 2
	}
	return b.String(), nil
}
