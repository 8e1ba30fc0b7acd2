package rules

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// conduct welcomes first-time authors with a link to the code of conduct and answers hostile
// text: publicly with one reminder per user per issue, or privately with only a notification to
// the maintainers (code_of_conduct.reply).
func (e *eval) conduct(ctx context.Context) error {
	cfg := e.cfg.CodeOfConduct
	if !cfg.Enabled {
		e.skip(RuleCodeOfConduct, "switched off (code_of_conduct.enabled)")
		return nil
	}
	opened := e.event == "issues" && e.action == "opened" && !e.isPR()
	switch {
	case !opened:
	case !cfg.WelcomeFirstTime:
		e.skip(RuleCodeOfConduct, "no welcome: code_of_conduct.welcome_first_time is off")
	case !e.firstIssue:
		e.skip(RuleCodeOfConduct, "no welcome: @%s has opened issues here before", e.author)
	case !isNewcomer(e.issue.GetAuthorAssociation()):
		e.skip(RuleCodeOfConduct, "no welcome: @%s is not new here (author association %s)", e.author, e.issue.GetAuthorAssociation())
	case isApp(e.issue):
		e.skip(RuleCodeOfConduct, "no welcome: @%s is an app", e.author)
	default:
		url, err := e.codeOfConductURL(ctx)
		if err != nil {
			return err
		}
		e.emit(Action{Rule: RuleCodeOfConduct, Type: Comment, Key: "welcome", Body: welcomeBody(e.author, url),
			Reason: fmt.Sprintf("@%s opened their first issue in this repository", e.author)})
	}

	who, what, link, text, before, ok := e.conductText()
	if !ok || who == "" {
		e.skip(RuleCodeOfConduct, "%s brings no new text by a person to read", e.kindOf())
		return nil
	}
	match := e.hostile(text)
	if match == "" {
		e.skip(RuleCodeOfConduct, "@%s's %s matches no hostile phrase", who, what)
		return nil
	}
	if e.hostile(before) != "" {
		e.skip(RuleCodeOfConduct, "the %s was hostile before this edit and was answered then", what)
		return nil
	}
	reason := fmt.Sprintf("@%s's %s matches %s", who, what, match)
	if cfg.Reply != ReplyPrivate && !containsFold(e.mem.Reminded, who) {
		url, err := e.codeOfConductURL(ctx)
		if err != nil {
			return err
		}
		e.emit(Action{Rule: RuleCodeOfConduct, Type: Comment, Key: "reminder-" + strings.ToLower(who),
			Body: reminderBody(who, url), Reason: reason + ": first reminder for them on this issue"})
		e.mem.Reminded = addFold(e.mem.Reminded, strings.ToLower(who))
	}
	// In private mode the maintainers alone hear of it: never through a channel that posts on GitHub.
	e.emit(Action{Rule: RuleCodeOfConduct, Type: Notify, Channel: RouteConduct, Private: cfg.Reply == ReplyPrivate,
		Text:   fmt.Sprintf("Possible code of conduct problem on %s#%d: @%s's %s matches %s. %s", e.repo, e.number, who, what, match, link),
		Reason: reason + ": maintainers should look"})
	return nil
}

// conductText is the text this event brings to read: who wrote it, what it is, its address,
// and (for an edit) the text before the edit.
func (e *eval) conductText() (who, what, link, text, before string, ok bool) {
	switch {
	case e.event == "issues" && (e.action == "opened" || e.action == "edited"):
		if e.action == "edited" && e.changes == nil {
			return "", "", "", "", "", false
		}
		text = e.issue.GetTitle() + "\n\n" + e.issue.GetBody()
		if e.action == "edited" {
			oldTitle, oldBody := e.issue.GetTitle(), e.issue.GetBody()
			if t := e.changes.GetTitle(); t != nil && t.From != nil {
				oldTitle = *t.From
			}
			if b := e.changes.GetBody(); b != nil && b.From != nil {
				oldBody = *b.From
			}
			before = oldTitle + "\n\n" + oldBody
		}
		if e.issue.GetUser().GetType() == "Bot" {
			return "", "", "", "", "", false // other apps echo text they did not write
		}
		return e.author, "issue", e.issue.GetHTMLURL(), text, before, true
	case e.event == "issue_comment" && (e.action == "created" || e.action == "edited") && e.comment != nil:
		if e.action == "edited" {
			if b := e.changes.GetBody(); b != nil && b.From != nil {
				before = *b.From
			} else {
				return "", "", "", "", "", false // an edit that did not touch the text
			}
		}
		if e.comment.GetUser().GetType() == "Bot" {
			return "", "", "", "", "", false
		}
		return e.comment.GetUser().GetLogin(), "comment", e.comment.GetHTMLURL(), e.comment.GetBody(), before, true
	}
	return "", "", "", "", "", false
}

// hostile says which phrase the text matches (built-in or configured), or "".
func (e *eval) hostile(text string) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	clean := cleanText(text)
	if e.cfg.CodeOfConduct.BuiltinPatterns {
		if name := builtinHostile(clean); name != "" {
			return "the built-in phrase list (" + name + ")"
		}
	}
	if re := firstMatch(e.cfg.CodeOfConduct.Patterns, clean); re != nil {
		return fmt.Sprintf("the configured pattern %q", strings.TrimPrefix(re.String(), "(?i)"))
	}
	return ""
}

// MayWelcome reports whether the author of an opened issue may be welcomed, as far as the
// issue alone tells: not a pull request, nor one by an app, an owner, a member, a collaborator
// or a past contributor. The worker looks the code of conduct up early for those.
func MayWelcome(issue *github.Issue) bool {
	return !issue.IsPullRequest() && isNewcomer(issue.GetAuthorAssociation()) && !isApp(issue)
}

func isApp(issue *github.Issue) bool { return issue.GetUser().GetType() == "Bot" }

// isNewcomer reports whether an author association allows a first issue here: owners, members,
// collaborators and past contributors are not welcomed.
func isNewcomer(association string) bool {
	switch strings.ToUpper(association) {
	case "OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR":
		return false
	}
	return true
}

// codeOfConductURL is the link comments give: the configured URL, else the repository's or
// organisation's CODE_OF_CONDUCT.md (asked of Lookup once per event), else "".
func (e *eval) codeOfConductURL(ctx context.Context) (string, error) {
	if e.cfg.CodeOfConduct.URL != "" {
		return e.cfg.CodeOfConduct.URL, nil
	}
	if e.cocURLDone || e.lookup == nil {
		return e.cocURL, nil
	}
	url, err := e.lookup.CodeOfConductURL(ctx)
	if err != nil {
		return "", fmt.Errorf("look up the code of conduct: %w", err)
	}
	e.cocURL, e.cocURLDone = url, true
	return url, nil
}
