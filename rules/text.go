package rules

import (
	"fmt"

	"github.com/triagebot/triagebot/internal/markdown"
)

// communityGuidelines is linked when a repository names no code of conduct: GitHub's own
// guidelines apply to every repository on GitHub.
const communityGuidelines = "https://docs.github.com/en/site-policy/github-terms/github-community-guidelines"

// conductLink is the markdown link comments use.
func conductLink(url string) string {
	if url == "" {
		return markdown.Link("GitHub Community Guidelines", communityGuidelines)
	}
	return markdown.Link("code of conduct", url)
}

// welcomeBody is the comment welcoming a first-time author.
func welcomeBody(login, url string) string {
	return fmt.Sprintf(`Welcome, %s, and thank you for opening your first issue here! 👋

A maintainer will look at it soon. Everyone taking part in this project is expected to follow the %s; please take a moment to read it.
`, markdown.Login(login), conductLink(url))
}

// reminderBody is the comment reminding a user of the code of conduct.
func reminderBody(login, url string) string {
	return fmt.Sprintf(`%s, please keep the discussion here friendly and focused on the issue. Everyone taking part in this project is expected to follow the %s.

Maintainers can see this conversation and may step in.
`, markdown.Login(login), conductLink(url))
}
