package ghfake

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Changes shared by the REST API (actor: the bot) and the simulated users. Each sends the
// webhook GitHub would send. Callers hold s.mu.

func (s *Server) touchLocked(is *issue) { is.updated = s.now() }

func (s *Server) addLabelLocked(r *repo, is *issue, name, actor string) {
	if is.hasLabel(name) {
		return
	}
	l := s.labelForLocked(r, name)
	is.labels = append(is.labels, l.name)
	s.touchLocked(is)
	s.labelEventLocked(r, is, "labeled", l.name, actor)
}

func (s *Server) removeLabelLocked(r *repo, is *issue, name, actor string) bool {
	i := slices.IndexFunc(is.labels, func(l string) bool { return strings.EqualFold(l, name) })
	if i < 0 {
		return false
	}
	removed := is.labels[i]
	is.labels = slices.Delete(is.labels, i, i+1)
	s.touchLocked(is)
	s.labelEventLocked(r, is, "unlabeled", removed, actor)
	return true
}

func (s *Server) assignLocked(r *repo, is *issue, who, actor string) {
	if slices.ContainsFunc(is.assignees, func(a string) bool { return strings.EqualFold(a, who) }) {
		return
	}
	is.assignees = append(is.assignees, s.userLocked(who).login)
	s.touchLocked(is)
	s.assigneeEventLocked(r, is, "assigned", who, actor)
}

func (s *Server) unassignLocked(r *repo, is *issue, who, actor string) {
	i := slices.IndexFunc(is.assignees, func(a string) bool { return strings.EqualFold(a, who) })
	if i < 0 {
		return
	}
	is.assignees = slices.Delete(is.assignees, i, i+1)
	s.touchLocked(is)
	s.assigneeEventLocked(r, is, "unassigned", who, actor)
}

var stateReasons = map[string]bool{"completed": true, "not_planned": true, "reopened": true, "duplicate": true}

func (s *Server) setStateLocked(r *repo, is *issue, state, reason, actor string) error {
	switch state {
	case "closed":
		if reason == "" {
			reason = "completed"
		}
		if !stateReasons[reason] || reason == "reopened" {
			return fmt.Errorf("state_reason %q is not valid for closing", reason)
		}
		if is.state == "closed" {
			is.stateReason = reason
			return nil
		}
		is.state, is.stateReason, is.closed, is.closedBy = "closed", reason, s.now(), actor
		s.touchLocked(is)
		s.issuesEventLocked(r, is, "closed", actor, nil)
	case "open":
		if reason != "" && reason != "reopened" {
			return fmt.Errorf("state_reason %q is not valid for reopening", reason)
		}
		if is.state == "open" {
			return nil
		}
		is.state, is.stateReason, is.closedBy = "open", "reopened", ""
		s.touchLocked(is)
		s.issuesEventLocked(r, is, "reopened", actor, nil)
	default:
		return fmt.Errorf("state %q is not open or closed", state)
	}
	return nil
}

func (s *Server) createCommentLocked(r *repo, is *issue, actor, body string) *comment {
	now := s.now()
	c := &comment{id: s.newIDLocked(), issue: is.number, body: body, user: s.userLocked(actor).login,
		assoc: s.associationLocked(r, actor), created: now, updated: now}
	is.comments = append(is.comments, c)
	s.touchLocked(is)
	s.commentEventLocked(r, is, c, "created", actor, nil)
	return c
}

func (s *Server) editCommentLocked(r *repo, is *issue, c *comment, actor, body string) {
	if c.body == body {
		return
	}
	from := c.body
	c.body, c.updated = body, s.now()
	s.commentEventLocked(r, is, c, "edited", actor, &from)
}

func (s *Server) editIssueLocked(r *repo, is *issue, title, body *string, actor string) {
	ch := &github.EditChange{}
	if title != nil && *title != is.title {
		ch.Title = &github.EditTitle{From: ptr(is.title)}
		is.title = *title
	}
	if body != nil && *body != is.body {
		ch.Body = &github.EditBody{From: ptr(is.body)}
		is.body = *body
	}
	if ch.Title == nil && ch.Body == nil {
		return
	}
	s.touchLocked(is)
	s.issuesEventLocked(r, is, "edited", actor, func(ev *github.IssuesEvent) { ev.Changes = ch })
}
