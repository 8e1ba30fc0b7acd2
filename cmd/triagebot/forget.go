package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/queue"
)

// forgetter deletes what the bot keeps about a repository it was uninstalled from (issue 12
// §5): the memory of its issues and of itself, which installation serves it, its cached
// configuration files and its scheduled timers. The audit trail stays: it is a record.
// Caches held in a process (configuration, lookups) expire on their own within minutes.
type forgetter struct {
	q   *queue.Queue
	log *zap.Logger
}

var _ handlers.Forgetter = forgetter{}

func (f forgetter) Forget(ctx context.Context, repoID int64, fullName string) error {
	owner, name, _ := strings.Cut(fullName, "/")
	memory, err := queue.ForgetKeys(ctx, f.q.MemoryBucket(), append([]string{fmt.Sprintf("issue.%d.>", repoID), queue.RepoKey(repoID), queue.RepoKey(repoID) + ".>",
		handlers.InstallationKey(fullName)}, handlers.WalkKeys(fullName)...)...)
	if err != nil {
		return err
	}
	config, err := f.forgetConfig(ctx, owner, name)
	if err != nil {
		return err
	}
	stream, err := f.q.JetStream().Stream(ctx, handlers.TimersStream)
	if err != nil {
		return fmt.Errorf("timers of %s: %w", fullName, err)
	}
	if err := stream.Purge(ctx, jetstream.WithPurgeSubject(fmt.Sprintf("%s.*.%d.>", handlers.TimersSubjects, repoID))); err != nil {
		return fmt.Errorf("purge the timers of %s: %w", fullName, err)
	}
	f.log.Info("repository forgotten: the App was uninstalled from it", zap.String(handlers.LogKeyRepo, fullName),
		zap.Int("memory_keys", memory), zap.Int("config_keys", config))
	return nil
}

// ForgetAccount forgets the account's organisation-wide configuration (its .github repository).
func (f forgetter) ForgetAccount(ctx context.Context, account string) error {
	_, err := f.forgetConfig(ctx, account, ghapp.OrgConfigRepo)
	return err
}

// forgetConfig deletes a repository's cached configuration file and its parsed versions.
func (f forgetter) forgetConfig(ctx context.Context, owner, name string) (int, error) {
	file := ghapp.ConfigKey(owner, name)
	return queue.ForgetKeys(ctx, f.q.ConfigBucket(), file, "body."+strings.TrimPrefix(file, "file.")+".>")
}
