package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// A change of configuration reaches the repositories it applies to as one queued unit each
// (issue 12 §4): a change of the organisation's defaults (owner/.github's configuration file)
// every repository of the installation, as GitHub lists them, not only those the bot has seen
// events of; the units are handled between other events and their writes keep the executor's
// pace. A unit creates or updates the labels the repository's configuration names, and walks its
// open issues for the lifecycle when that was turned on (Backfiller.LifecycleWalk).

// EventSyncRepository is the event of one unit: bring one repository in line with its
// configuration after a change. It never comes from GitHub.
const EventSyncRepository = "triagebot_sync_repository"

// RepositoryLister lists the repositories of an installation (GET /installation/repositories);
// the App implements it.
type RepositoryLister interface {
	// InstallationRepositories is page (from 1) of the installation's repositories and the next
	// page (0 after the last).
	InstallationRepositories(ctx context.Context, installationID int64, page int) ([]*github.Repository, int, error)
}

// syncUnit is the body of an EventSyncRepository event.
type syncUnit struct {
	installUnit
	// Labels: the labels are synced by the unit (a change of the organisation's defaults); a
	// push to the repository itself synced them already.
	Labels bool `json:"labels,omitempty"`
}

// configPushed queues the units of a push that changed (or may have changed) the configuration
// of repository owner/name: every repository of the installation for the organisation's
// .github, else the repository's lifecycle walk.
func (w *Worker) configPushed(ctx context.Context, m queue.Message, installationID, repoID int64, owner, name string, paths []string) error {
	if !ghapp.TouchesConfig(paths) && !slices.Contains(paths, PushTruncated) {
		return nil
	}
	if strings.EqualFold(name, ghapp.OrgConfigRepo) {
		return w.orgDefaultsChanged(ctx, m, installationID)
	}
	if w.cfg.LifecycleWalk == nil {
		return nil
	}
	return w.sync(ctx, m, syncUnit{installUnit: installUnit{InstallationID: installationID, FullName: owner + "/" + name}}, repoID)
}

// orgDefaultsChanged queues one unit per repository of the installation (archived ones and the
// .github repository itself left out), page by page.
func (w *Worker) orgDefaultsChanged(ctx context.Context, m queue.Message, installationID int64) error {
	if w.cfg.Repositories == nil || installationID == 0 {
		return nil
	}
	for page := 1; page != 0; {
		repos, next, err := w.cfg.Repositories.InstallationRepositories(ctx, installationID, page)
		if err != nil {
			return fmt.Errorf("repositories of installation %d (page %d): %w", installationID, page, err)
		}
		for _, r := range repos {
			if r.GetArchived() || strings.EqualFold(r.GetName(), ghapp.OrgConfigRepo) || r.GetFullName() == "" {
				continue
			}
			u := syncUnit{installUnit: installUnit{InstallationID: installationID, FullName: r.GetFullName()}, Labels: true}
			if err := w.sync(ctx, m, u, r.GetID()); err != nil {
				return err
			}
		}
		page = next
	}
	return nil
}

// sync queues u (its id derived from the event's, so a retried event queues it once), or does
// it now without a UnitQueue.
func (w *Worker) sync(ctx context.Context, m queue.Message, u syncUnit, repoID int64) error {
	if w.cfg.Units == nil {
		return w.syncRepository(ctx, m, u, repoID)
	}
	body, err := json.Marshal(u)
	if err != nil {
		return err
	}
	d := queue.Delivery{ID: m.DeliveryID + "/sync/" + strconv.FormatInt(repoID, 10), Event: EventSyncRepository,
		InstallationID: u.InstallationID, RepoID: repoID, Body: body}
	if _, err := w.cfg.Units.Publish(ctx, d); err != nil {
		return fmt.Errorf("queue the update of %s: %w", u.FullName, err)
	}
	return nil
}

// handleSyncUnit brings the one repository of an EventSyncRepository event in line.
func (w *Worker) handleSyncUnit(ctx context.Context, m queue.Message) error {
	var u syncUnit
	if err := decodeUnit(m, &u, &u.installUnit); err != nil {
		return err
	}
	return w.syncRepository(ctx, m, u, m.RepoID)
}

func (w *Worker) syncRepository(ctx context.Context, m queue.Message, u syncUnit, repoID int64) error {
	owner, name, _ := strings.Cut(u.FullName, "/")
	if u.Labels && w.cfg.Installer != nil {
		if err := w.syncLabels(ctx, m, u.InstallationID, repoID, u.FullName, RuleConfiguration, "the organisation's defaults changed; the configuration names these labels"); err != nil {
			return fmt.Errorf("labels of %s after a change of the organisation's defaults: %w", u.FullName, err)
		}
	}
	return w.lifecycleWalk(ctx, rules.Target{InstallationID: u.InstallationID, RepoID: repoID, Owner: owner, Name: name})
}

// lifecycleCatchUp queues the lifecycle walk of t's repository the first time this process
// handles an event of it with the lifecycle on: a lifecycle turned on where no push tells of it
// (the server defaults) still reaches the repository's old issues. The walk of a repository
// walked before ends at once; the unit's fixed id keeps processes from queueing it more than
// once in the queue's dedup window. A failure is logged, not the event's: the next event tries.
func (w *Worker) lifecycleCatchUp(ctx context.Context, log *zap.Logger, t rules.Target, cfg rules.Config) {
	if w.cfg.LifecycleWalk == nil || w.cfg.Units == nil || !cfg.Lifecycle.Enabled || t.RepoID == 0 || t.Owner == "" || t.Name == "" {
		return
	}
	if _, queued := w.walks.Load(t.RepoID); queued {
		return
	}
	u := syncUnit{installUnit: installUnit{InstallationID: t.InstallationID, FullName: t.FullName()}}
	if err := w.sync(ctx, queue.Message{DeliveryID: "lifecycle-walk"}, u, t.RepoID); err != nil {
		log.Warn("lifecycle walk not queued; the next event tries again", zap.Error(err))
		return
	}
	w.walks.Store(t.RepoID, true)
}

// lifecycleWalk walks t's open issues for the lifecycle, when that is on and not done yet.
func (w *Worker) lifecycleWalk(ctx context.Context, t rules.Target) error {
	if w.cfg.LifecycleWalk == nil || t.RepoID == 0 {
		return nil
	}
	if _, err := w.cfg.LifecycleWalk(ctx, t); err != nil {
		return fmt.Errorf("lifecycle walk of %s: %w", t.FullName(), err)
	}
	return nil
}

// decodeUnit decodes a unit's body into v and checks the repository it names (in base).
func decodeUnit(m queue.Message, v any, base *installUnit) error {
	if err := json.Unmarshal(m.Body, v); err != nil {
		return queue.Permanent(fmt.Errorf("decode %s: %w", m.Event, err))
	}
	if owner, name, ok := strings.Cut(base.FullName, "/"); !ok || owner == "" || name == "" {
		return queue.Permanent(fmt.Errorf("%s: %q is not owner/name", m.Event, base.FullName))
	}
	return nil
}
