package rules

import (
	"context"
	"fmt"
	"strings"

	"github.com/triagebot/triagebot/internal/markdown"
	"github.com/triagebot/triagebot/rules/command"
)

// RuleSecurity names the actions of the security-report guard.
const RuleSecurity = "security"

// SecurityPolicyLookup finds a repository's security policy. A Lookup that also implements it
// lets the guard link the repository's own SECURITY.md; without it the guard links GitHub's
// security policy page of the repository, which shows the policy wherever it lives.
type SecurityPolicyLookup interface {
	// SecurityPolicyURL is the html_url of the repository's (else its owner's .github
	// repository's) SECURITY.md, in any case, at the root, in .github/ or docs/; "" if none.
	SecurityPolicyURL(ctx context.Context) (string, error)
}

// securityLockReason is the lock reason GitHub shows; none of its four fits well, this one
// least surprises readers ("this conversation has been locked as off-topic").
const securityLockReason = "off-topic"

// security recognises a vulnerability report filed as a public issue (issue 12 §1) and gets it
// out of public view as far as GitHub allows: a private notification carrying its text, one
// keyed comment pointing to private reporting, a label, optionally a lock and a redacted body.
// It acts once per issue, never on a maintainer's own issue, and never again after
// /not-security.
func (e *eval) security(ctx context.Context) error {
	cfg := e.cfg.Security
	switch {
	case !cfg.Enabled:
		e.skip(RuleSecurity, "off (security.enabled)")
		return nil
	case e.event != "issues" || e.isPR() || (e.action != "opened" && e.action != "edited"):
		e.skip(RuleSecurity, "it reads issues as they are opened or edited, not %s", e.kindOf())
		return nil
	case e.mem.SecurityFlagged:
		e.skip(RuleSecurity, "the issue was flagged as a security report before")
		return nil
	case e.mem.NotSecurity:
		e.skip(RuleSecurity, "a maintainer said it is not a security report (/not-security)")
		return nil
	case isMaintainer(e.issue.GetAuthorAssociation()):
		e.skip(RuleSecurity, "a maintainer's own issue")
		return nil
	}
	m := matchSecurity(e.issue.GetTitle(), e.issue.GetBody(), cfg.BuiltinPatterns, cfg.Patterns)
	if !m.flagged() {
		e.skip(RuleSecurity, "the issue does not read like a vulnerability report")
		return nil
	}
	policy, err := e.securityPolicyURL(ctx)
	if err != nil {
		return err
	}
	e.mem.SecurityFlagged = true
	reason := "looks like a vulnerability report filed in public (" + strings.Join(m.signals, ", ") + ")"
	notified := false
	if cfg.Notify {
		before := len(e.actions)
		text := fmt.Sprintf("Possible vulnerability report filed in public: %s#%d by @%s %q %s\n\n%s",
			e.repo, e.number, e.author, command.Neutralize(e.issue.GetTitle()), e.issue.GetHTMLURL(), command.Neutralize(e.issue.GetBody()))
		e.notify(RuleSecurity, RouteSecurity, "", "", text)
		for i := before; i < len(e.actions); i++ {
			e.actions[i].Private, e.actions[i].Reason = true, reason+": maintainers are told privately"
			notified = true
		}
	}
	redact := cfg.Redact && notified // the text is removed only once it is on its way to the maintainers
	if cfg.Comment {
		e.emit(Action{Rule: RuleSecurity, Type: Comment, Key: "report", Body: securityBody(e.author, e.repo, policy, redact), Reason: reason})
	}
	if cfg.Label != "" && !e.hasLabel(cfg.Label) {
		e.emit(Action{Rule: RuleSecurity, Type: AddLabels, Labels: []string{cfg.Label}, Reason: reason})
		e.mem.BotLabels = addFold(e.mem.BotLabels, cfg.Label)
		e.labels = addFold(e.labels, cfg.Label)
	}
	if cfg.Lock {
		e.emit(Action{Rule: RuleSecurity, Type: Lock, LockReason: securityLockReason, Reason: reason + ": locked until a maintainer looks"})
		e.mem.SecurityLocked = true
	}
	if redact {
		e.emit(Action{Rule: RuleSecurity, Type: EditBody, Body: redactedBody, Reason: reason + ": its text went to the maintainers privately and was removed here"})
	}
	return nil
}

func (e *eval) securityPolicyURL(ctx context.Context) (string, error) {
	if l, ok := e.lookup.(SecurityPolicyLookup); ok && e.lookup != nil {
		u, err := l.SecurityPolicyURL(ctx)
		if err != nil {
			return "", fmt.Errorf("security policy: %w", err)
		}
		if u != "" {
			return u, nil
		}
	}
	return "https://github.com/" + e.repo + "/security/policy", nil
}

// redactedBody replaces a redacted report's text.
const redactedBody = `*The text of this issue was removed by triagebot because it may describe a security vulnerability. It was sent privately to the maintainers.*

*Maintainers: GitHub keeps the earlier text in this issue's edit history; delete that revision there (the "edited" menu) to take it out of public view.*
`

// securityBody is the guard's comment.
func securityBody(author, repo, policy string, redacted bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, thank you for the report. It looks like it may describe a security vulnerability, and issues here are public.\n\n", markdown.Login(author))
	fmt.Fprintf(&b, "Please do not post more details here. Report vulnerabilities privately instead: see the %s, or use %s for this repository.\n\n",
		markdown.Link("security policy", policy), markdown.Link("GitHub's private vulnerability reporting", "https://github.com/"+repo+"/security/advisories/new"))
	if redacted {
		b.WriteString("The text of the issue was sent privately to the maintainers and removed here.\n\n")
	}
	b.WriteString("The maintainers have been told. If this is not a security report, a maintainer can say `/not-security`.\n")
	return b.String()
}

// cmdNotSecurity is /not-security: a maintainer says the issue is not a vulnerability report.
// The guard's label comes off, its lock is lifted, and it never acts on the issue again.
func (e *eval) cmdNotSecurity(c command.Command, reason string) {
	if !e.mem.SecurityFlagged {
		e.mem.NotSecurity = true
		e.problem(c, "the bot did not take this "+e.kind()+" for a security report; it will not from now on")
		return
	}
	e.mem.SecurityFlagged, e.mem.NotSecurity = false, true
	if l := e.cfg.Security.Label; l != "" && (e.hasLabel(l) || containsFold(e.mem.BotLabels, l)) {
		e.emit(Action{Rule: RuleCommands, Type: RemoveLabel, Label: l, Reason: reason + ": not a security report"})
		e.mem.BotLabels = removeFold(e.mem.BotLabels, l)
		e.labels = removeFold(e.labels, l)
	}
	if e.mem.SecurityLocked {
		e.emit(Action{Rule: RuleCommands, Type: Unlock, Reason: reason + ": not a security report"})
		e.mem.SecurityLocked = false
	}
}
