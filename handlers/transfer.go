package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/triagebot/triagebot/queue"
	"github.com/triagebot/triagebot/rules"
)

// transferChanges is the part of an issues.transferred payload go-github v60 does not decode.
type transferChanges struct {
	Changes struct {
		NewIssue struct {
			Number int `json:"number"`
		} `json:"new_issue"`
		NewRepository struct {
			ID       int64  `json:"id"`
			FullName string `json:"full_name"`
		} `json:"new_repository"`
	} `json:"changes"`
}

// transferred keeps the memory of an issue moved to another repository under its new
// repository and number (issue 12 §3), joined with what the new issue's own events stored.
func (w *Worker) transferred(ctx context.Context, m queue.Message, action string, mem rules.Memory) error {
	if m.Event != "issues" || action != "transferred" {
		return nil
	}
	var p transferChanges
	if err := json.Unmarshal(m.Body, &p); err != nil {
		return queue.Permanent(fmt.Errorf("decode the transfer: %w", err))
	}
	to := p.Changes
	if to.NewRepository.ID == 0 || to.NewIssue.Number == 0 {
		return nil // nothing says where it went
	}
	key := queue.IssueKey(to.NewRepository.ID, to.NewIssue.Number)
	// Unlike the repository's memory, a conflict that outlasts the attempts retries the event:
	// the transfer has no side effect to repeat, and what the issue was must not be lost.
	_, err := updateMemory(ctx, w.cfg.Store, key, func(cur *rules.Memory, rev uint64) bool {
		next := mem.Transferred(*cur)
		if rev != 0 && reflect.DeepEqual(next, *cur) {
			return false
		}
		*cur = next
		return true
	})
	return err
}
