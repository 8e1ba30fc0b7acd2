package main

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/triagebot/triagebot/internal/ghapp"
	"github.com/triagebot/triagebot/internal/notify"
	"github.com/triagebot/triagebot/internal/ops"
	"github.com/triagebot/triagebot/rules"
)

func buildInfo() ops.BuildInfo {
	b := buildOf()
	return ops.BuildInfo{Version: b.Version, Commit: b.Commit}
}

// observed makes every GitHub request of the App counted and every rate-limit wait known to om.
func (o startOptions) observed(s settings, om *ops.Metrics) startOptions {
	base := o.transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	o.transport = om.Transport(s.GitHubURL, base)
	o.ghapp = slices.Concat(o.ghapp, []ghapp.Option{ghapp.WithLimitObserver(func(e ghapp.LimitEvent) {
		om.LimitWait(e.InstallationID, e.Kind, e.Until)
	})})
	return o
}

// notificationObserver counts the dispatcher's sends and failures by channel type and keeps
// each channel's last success and failure for the status page.
func notificationObserver(om *ops.Metrics, chs *ops.ChannelStats) func(notify.Outcome) {
	return func(o notify.Outcome) {
		typ := chs.Type(o.Channel)
		switch o.Result {
		case notify.ResultSent:
			om.NotificationOutcome(typ, ops.NotificationSent, len(o.IDs))
			chs.Record(o.Channel, len(o.IDs), nil)
		case notify.ResultRetry, notify.ResultRateLimited, notify.ResultDeadLettered:
			om.NotificationOutcome(typ, ops.NotificationFailed, len(o.IDs))
			err := o.Err
			if err == nil {
				err = errors.New(o.Result)
			}
			chs.Record(o.Channel, len(o.IDs), err)
		}
	}
}

func channelTypes(channels map[string]notify.ChannelConfig) map[string]string {
	out := make(map[string]string, len(channels))
	for name, c := range channels {
		out[name] = c.Type
	}
	return out
}

// countedConfig counts the events whose repository configuration was broken or unreadable.
type countedConfig struct {
	loader *ghapp.ConfigLoader
	om     *ops.Metrics
}

func (c countedConfig) Config(ctx context.Context, t rules.Target) (rules.Config, error) {
	if t.Owner == "" || t.Name == "" || t.InstallationID == 0 {
		return c.loader.Config(ctx, t)
	}
	loaded, err := c.loader.Load(ctx, t.InstallationID, t.Owner, t.Name)
	switch {
	case err != nil:
		c.om.ConfigFailure(ops.ConfigUnreadable)
		return rules.Config{}, err
	case loaded.ParseErr != nil:
		c.om.ConfigFailure(ops.ConfigBroken)
	}
	return loaded.Config, nil
}
