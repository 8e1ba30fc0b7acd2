package main

import (
	"cmp"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/triagebot/triagebot/handlers"
	"github.com/triagebot/triagebot/internal/ghapp"
)

// startReconciler recovers the deliveries GitHub could not make (README "What happens while
// the bot is down"); it needs App credentials and writes to GitHub, so it is off in dry-run.
func (a *app) startReconciler(gh *ghapp.App, reg prometheus.Registerer, opts startOptions) {
	every := cmp.Or(opts.reconcileEvery, a.s.ReconcileEvery)
	if gh == nil || a.s.DryRun || every < 0 {
		return
	}
	found := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "triagebot_reconcile_deliveries_total",
		Help: "Failed webhook deliveries the reconciler found, by result (stored_anyway, asked_before, redelivered, refused).",
	}, []string{"result"})
	runs := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "triagebot_reconcile_runs_total",
		Help: "Reconciliations this process ran.",
	})
	reg.MustRegister(found, runs)
	a.reconciler = &handlers.Reconciler{Source: gh, Ledger: a.q, Store: a.q, Logger: a.log.Named("reconcile"),
		Every: every, Pace: cmp.Or(opts.reconcilePace, a.s.ReconcilePace),
		Observe: func(r handlers.ReconcileReport) {
			runs.Inc()
			found.WithLabelValues("stored_anyway").Add(float64(r.Known))
			found.WithLabelValues("asked_before").Add(float64(r.Asked))
			found.WithLabelValues("redelivered").Add(float64(r.Redelivered))
			found.WithLabelValues("refused").Add(float64(r.Errors))
			a.reconciled(r)
		}}
	a.reconciler.Start()
	a.log.Info("delivery reconciler started", zap.Duration("every", a.reconciler.Every))
}

func (a *app) stopReconciler() {
	if a.reconciler != nil {
		a.reconciler.Stop()
		a.reconciler = nil
	}
}
