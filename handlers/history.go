package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/triagebot/triagebot/rules"
)

// historyLimit is how many of an issue's newest audit records /why reads; rules shows fewer.
const historyLimit = 500

// history reads what the bot did on an issue from its audit trail, for /why. It is called at
// most once per event, and only when a comment asks /why.
func (w *Worker) history(repoID int64, number int) func(ctx context.Context) ([]rules.HistoryEntry, error) {
	return func(ctx context.Context) ([]rules.HistoryEntry, error) {
		raw, err := w.cfg.Store.AuditTrail(ctx, repoID, number, historyLimit)
		if err != nil {
			return nil, fmt.Errorf("audit trail of %d#%d: %w", repoID, number, err)
		}
		return HistoryEntries(raw), nil
	}
}

// HistoryEntries maps audit records (AuditRecord as JSON) to the rules' history entries,
// oldest first. A record that does not decode is left out: /why explains what it can.
func HistoryEntries(raw []json.RawMessage) []rules.HistoryEntry {
	out := make([]rules.HistoryEntry, 0, len(raw))
	for _, r := range raw {
		var rec AuditRecord
		if err := json.Unmarshal(r, &rec); err != nil {
			continue
		}
		a := rec.Result.Action
		out = append(out, rules.HistoryEntry{
			Time:       rec.Time,
			Rule:       a.Rule,
			Type:       string(a.Type),
			Reason:     a.Reason,
			Status:     string(rec.Result.Status),
			DeliveryID: rec.DeliveryID,
			Labels:     a.Labels,
			Label:      a.Label,
		})
	}
	return out
}
