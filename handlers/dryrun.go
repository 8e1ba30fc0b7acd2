package handlers

import (
	"context"

	"go.uber.org/zap"

	"github.com/triagebot/triagebot/rules"
)

// DryRunExecutor records and logs the actions but writes nothing to GitHub
// (TRIAGEBOT_DRY_RUN, or no App credentials).
type DryRunExecutor struct {
	Logger *zap.Logger
}

// Execute implements Executor.
func (d DryRunExecutor) Execute(ctx context.Context, t rules.Target, actions []rules.Action) ([]rules.Result, error) {
	results := make([]rules.Result, 0, len(actions))
	for _, a := range actions {
		if d.Logger != nil {
			d.Logger.Info("dry run: not written to GitHub", zap.String(LogKeyDeliveryID, t.DeliveryID),
				zap.String(LogKeyRepo, a.Repo), zap.Int(LogKeyNumber, a.Number), zap.String(LogKeyRule, a.Rule),
				zap.String("type", string(a.Type)), zap.String("reason", a.Reason))
		}
		results = append(results, rules.Result{Action: a, Status: rules.StatusDryRun})
	}
	return results, nil
}
