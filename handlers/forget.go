package handlers

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Forgetter deletes what the bot keeps about a repository the App was uninstalled from: its
// memory, cached configuration and scheduled timers (issue 12 §5).
type Forgetter interface {
	Forget(ctx context.Context, repoID int64, fullName string) error
	// ForgetAccount deletes what is kept for the account as a whole (its .github repository's
	// configuration), once the App is uninstalled from it.
	ForgetAccount(ctx context.Context, account string) error
}

// uninstalled forgets the repositories of an installation.deleted or an
// installation_repositories.removed event.
func (w *Worker) uninstalled(ctx context.Context, payload any) error {
	if w.cfg.Forgetter == nil {
		return nil
	}
	var gone []*github.Repository
	account := ""
	switch ev := payload.(type) {
	case *github.InstallationEvent:
		if ev.GetAction() == "deleted" {
			gone, account = ev.Repositories, ev.GetInstallation().GetAccount().GetLogin()
		}
	case *github.InstallationRepositoriesEvent:
		if ev.GetAction() == "removed" {
			gone = ev.RepositoriesRemoved
		}
	}
	for _, r := range gone {
		if r.GetID() == 0 || !strings.Contains(r.GetFullName(), "/") {
			continue
		}
		if err := w.cfg.Forgetter.Forget(ctx, r.GetID(), r.GetFullName()); err != nil {
			return fmt.Errorf("forget %s: %w", r.GetFullName(), err)
		}
	}
	if account != "" {
		if err := w.cfg.Forgetter.ForgetAccount(ctx, account); err != nil {
			return fmt.Errorf("forget %s: %w", account, err)
		}
	}
	return nil
}
