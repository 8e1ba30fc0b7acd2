package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// Long installation work is split into one queued unit per repository: an installation of 300
// repositories becomes 300 small events, lined up per repository, handled between other
// installations' events and retried each on its own, instead of one event that labels 300
// repositories in a row and starts over on any failure.

// EventInstallRepository is the event of one unit: prepare one repository the App was
// installed on. It never comes from GitHub.
const EventInstallRepository = "triagebot_install_repository"

// UnitQueue stores units of work as events; *queue.Queue implements it.
type UnitQueue interface {
	Publish(ctx context.Context, d queue.Delivery) (queue.PublishResult, error)
}

// installUnit is the body of an EventInstallRepository event.
type installUnit struct {
	InstallationID int64  `json:"installation_id"`
	FullName       string `json:"full_name"` // owner/name
	// Since is when the App got the repository: the issues opened since come as events.
	Since time.Time `json:"since,omitzero"`
}

// installRepositories prepares the repositories of an installation event: one queued unit each
// when a UnitQueue is set, else in a row. A unit's id is derived from the event's, so the
// event, retried after some units were stored, stores each unit once.
func (w *Worker) installRepositories(ctx context.Context, m queue.Message, installationID int64, repos []*github.Repository, since time.Time) error {
	for _, r := range repos {
		if w.cfg.Units == nil {
			if err := w.installRepository(ctx, m, installationID, r.GetID(), r.GetFullName(), since); err != nil {
				return err
			}
			continue
		}
		body, err := json.Marshal(installUnit{InstallationID: installationID, FullName: r.GetFullName(), Since: since})
		if err != nil {
			return err
		}
		d := queue.Delivery{ID: m.DeliveryID + "/install/" + strconv.FormatInt(r.GetID(), 10), Event: EventInstallRepository,
			InstallationID: installationID, RepoID: r.GetID(), Body: body}
		if _, err := w.cfg.Units.Publish(ctx, d); err != nil {
			return fmt.Errorf("queue the preparation of %s: %w", r.GetFullName(), err)
		}
	}
	return nil
}

// handleUnit prepares the one repository of an EventInstallRepository event.
func (w *Worker) handleUnit(ctx context.Context, m queue.Message) error {
	var u installUnit
	if err := decodeUnit(m, &u, &u); err != nil {
		return err
	}
	if w.cfg.Installer == nil {
		return nil
	}
	return w.installRepository(ctx, m, u.InstallationID, m.RepoID, u.FullName, u.Since)
}

// syncLabels creates or updates the labels the configuration of repository full names, and
// records those it created in the repository's audit trail under rule, for reason.
func (w *Worker) syncLabels(ctx context.Context, m queue.Message, installationID, repoID int64, full, rule, reason string) error {
	owner, name, _ := strings.Cut(full, "/")
	created, err := w.cfg.Installer.Installed(ctx, installationID, owner, name)
	if aerr := w.auditLabels(ctx, m, repoID, full, rule, reason, created); aerr != nil && err == nil {
		err = aerr
	}
	return err
}

// installRepository creates the labels the repository's configuration names, and records those
// it created in the repository's audit trail.
func (w *Worker) installRepository(ctx context.Context, m queue.Message, installationID, repoID int64, full string, since time.Time) error {
	owner, name, _ := strings.Cut(full, "/")
	if err := w.syncLabels(ctx, m, installationID, repoID, full, RuleInstallation, "the App was installed on the repository; its configuration names these labels"); err != nil {
		return fmt.Errorf("prepare %s: %w", full, err)
	}
	t := rules.Target{InstallationID: installationID, RepoID: repoID, Owner: owner, Name: name}
	if w.cfg.Backfill != nil {
		if _, err := w.cfg.Backfill(ctx, t, since); err != nil {
			return fmt.Errorf("backfill %s: %w", full, err)
		}
	}
	// Nothing left to do when the backfill scheduled the lifecycle's timers on its way.
	return w.lifecycleWalk(ctx, t)
}
