package rules

import (
	"regexp"
	"strings"
)

// The security-report guard's built-in signals (issue 12 §1). A text is a vulnerability report
// when its signals weigh securityThreshold or more and come from at least two of the three kinds
// that describe a vulnerability (a class of attack, the word itself or a CVE, an attacker or
// exploit): one word ("security", "XSS", "CVE-…") alone is how ordinary issues mention security
// in passing. Phrases of ordinary work (a dependency bump, documentation, a feature request)
// weigh against. Matched on cleanText: quoted and fenced text, inline code and HTML comments are
// left out. These are constants: compiled once, never changed.
type securitySignal struct {
	kind   string // class | vulnerability | exploit | disclosure | ordinary
	name   string // what a maintainer reads in the reason
	weight int
	re     *regexp.Regexp
}

const securityThreshold = 4

var securitySignals = []securitySignal{
	{"class", "a class of vulnerability", 2, regexp.MustCompile(`\b(?:xss|cross[- ]site scripting|sql ?injection|sqli|rce|remote code execution|(?:arbitrary )?code execution|command injection|code injection|template injection|ssti|ldap injection|path traversal|directory traversal|ssrf|server[- ]side request forgery|csrf|xsrf|cross[- ]site request forgery|xxe|xml external entit(?:y|ies)|(?:insecure|unsafe) deserialization|privilege escalation|(?:authentication|auth|authorization|2fa|mfa) bypass|arbitrary (?:file|code|command)s? (?:read|write|upload|execution|inclusion|deletion)|buffer overflow|heap overflow|out[- ]of[- ]bounds (?:read|write)|use[- ]after[- ]free|open redirect|prototype pollution|sandbox escape|account takeover|idor|insecure direct object reference|redos|session fixation|request smuggling|(?:local|remote) file inclusion|information disclosure|sensitive (?:data|information) (?:exposure|leak))\b`)},
	{"vulnerability", "the word vulnerability or a CVE", 2, regexp.MustCompile(`\b(?:vulnerabilit(?:y|ies)|vulnerable|vuln|security (?:issue|flaw|bug|hole|problem|vulnerability|weakness|report|defect)s?|cve-\d{4}-\d{4,}|cvss|ghsa-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}|zero[- ]day|0[- ]day|cwe-\d+)\b`)},
	{"exploit", "an attacker or an exploit", 2, regexp.MustCompile(`\b(?:exploit(?:s|ed|able|ation)?|proof[- ]of[- ]concept|poc|attackers?|malicious (?:user|actor|payload|input|request|file|link|script|code|website|page)s?|attack vector|victim'?s?|(?:steal|exfiltrate|hijack)s? (?:the )?(?:session|cookie|token|credential|password)s?|can be abused|unauthenticated (?:user|attacker|request)s? can)\b`)},
	{"disclosure", "asks to disclose privately", 1, regexp.MustCompile(`\b(?:disclos(?:e|ure|ing)|report (?:it|this|them) privately|private(?:ly)? (?:report|channel|disclosure)|secure (?:channel|way) to|security@|bug bounty|huntr|security advisory|responsible disclosure)\b`)},
	{"ordinary", "a dependency bump", -4, regexp.MustCompile(`\b(?:bump(?:s|ed|ing)?|upgrade[sd]?|upgrading)\b[^.\n]{0,60}\b(?:from|to|version|dependenc(?:y|ies)|deps?)\b|\b(?:dependabot|renovate|npm audit|yarn audit|pnpm audit|cargo audit|pip-audit|govulncheck|snyk|trivy|grype)\b`)},
	{"ordinary", "documentation", -2, regexp.MustCompile(`\b(?:docs|documentation|readme|tutorial|cheat ?sheet|blog post|article|glossary|wiki page|learning resource)\b|^(?:update|improve|write|rewrite|add|fix)\b.{0,40}\b(?:page|entry|section|guide|example)s?$`)},
	{"ordinary", "a feature request", -2, regexp.MustCompile(`\b(?:feature request|would be (?:nice|great|good)|add (?:an? )?(?:option|setting|support)|allow (?:users? )?to configure|please add|it would help|enhancement|as a user,? i want)\b`)},
}

// securityMatch is the verdict on one text: its weight and the signals that made it.
type securityMatch struct {
	score   int
	signals []string // names of the signals found, positive ones first
	kinds   map[string]bool
	title   map[string]bool // the kinds found in the title
	custom  string          // the configured pattern that matched, if one did
}

func (m securityMatch) flagged() bool {
	if m.custom != "" {
		return true
	}
	strong := 0
	for _, k := range []string{"class", "vulnerability", "exploit"} {
		if m.kinds[k] {
			strong++
		}
	}
	// "Security vulnerability in …" with a request to disclose it privately is a report too.
	titled := m.title["vulnerability"] && m.kinds["disclosure"]
	return m.score >= securityThreshold && (strong >= 2 || titled)
}

// matchSecurity weighs the title and body of an issue. A signal in the title weighs one more:
// a title is what the reporter chose to say first.
func matchSecurity(title, body string, builtin bool, patterns []string) securityMatch {
	m := securityMatch{kinds: map[string]bool{}, title: map[string]bool{}}
	t, b := cleanText(title), cleanText(body)
	for _, re := range compileAll(patterns) {
		if re.MatchString(t) || re.MatchString(b) {
			m.custom = re.String()
			m.signals = append(m.signals, "the pattern "+strings.TrimPrefix(re.String(), "(?i)"))
			return m
		}
	}
	if !builtin {
		return m
	}
	var negative []string
	for _, s := range securitySignals {
		inTitle, inBody := s.re.MatchString(t), s.re.MatchString(b)
		if !inTitle && !inBody {
			continue
		}
		w := s.weight
		if inTitle && w > 0 {
			w++
		}
		m.score += w
		m.kinds[s.kind] = true
		m.title[s.kind] = m.title[s.kind] || inTitle
		if w < 0 {
			negative = append(negative, "but "+s.name)
			continue
		}
		m.signals = append(m.signals, s.name)
	}
	m.signals = append(m.signals, negative...)
	return m
}
