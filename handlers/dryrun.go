package handlers

import (
	"context"

	"github.com/triagebot/triagebot/rules"
)

// DryRunExecutor writes nothing to GitHub (TRIAGEBOT_DRY_RUN, or no App credentials): every
// action is reported as dry_run, and the worker logs and audits it like any other result.
type DryRunExecutor struct{}

// Execute implements Executor.
func (DryRunExecutor) Execute(_ context.Context, _ rules.Target, actions []rules.Action) ([]rules.Result, error) {
	results := make([]rules.Result, len(actions))
	for i, a := range actions {
		results[i] = rules.Result{Action: a, Status: rules.StatusDryRun}
	}
	return results, nil
}
