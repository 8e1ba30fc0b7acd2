package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// IssueKey is the memory key of an issue.
func IssueKey(repoID int64, number int) string { return fmt.Sprintf("issue.%d.%d", repoID, number) }

// RepoKey is the memory key of a repository.
func RepoKey(repoID int64) string { return fmt.Sprintf("repo.%d", repoID) }

// AuthorKey is the memory key of what the bot knows of an author in a repository (which issue
// was their first there): one key per author, so that the events of different authors never
// write the same record, and a repository's record does not grow with its authors. Logins are
// lower-cased; a byte other than a-z, 0-9 and '-' (an App's "[bot]") is written _xx.
func AuthorKey(repoID int64, login string) string {
	var b strings.Builder
	for _, c := range []byte(strings.ToLower(login)) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return fmt.Sprintf("%s.author.%s", RepoKey(repoID), b.String())
}

// ErrConflict means the memory changed since it was loaded; load it again and redo the work.
var ErrConflict = errors.New("memory changed concurrently")

// LoadMemory decodes the value at key into v and returns its revision (0: no value yet, v unchanged).
func (q *Queue) LoadMemory(ctx context.Context, key string, v any) (uint64, error) {
	e, err := q.memory.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load memory %s: %w", key, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return 0, fmt.Errorf("decode memory %s: %w", key, err)
	}
	return e.Revision(), nil
}

// StoreMemory writes v at key if the value is still at revision (0: there was none). A
// concurrent change gives ErrConflict.
func (q *Queue) StoreMemory(ctx context.Context, key string, v any, revision uint64) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode memory %s: %w", key, err)
	}
	if revision == 0 {
		_, err = q.memory.Create(ctx, key, data)
	} else {
		_, err = q.memory.Update(ctx, key, data, revision)
	}
	var apiErr *jetstream.APIError
	// A replicated (R3) bucket reports a conflict as ErrKeyRevisionMismatch (code 10164).
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || (errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence) {
		return fmt.Errorf("store memory %s: %w", key, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store memory %s: %w", key, err)
	}
	return nil
}
