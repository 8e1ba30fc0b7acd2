// Package markdown puts user-controlled text (label names, logins, titles, command arguments)
// into the Markdown of the bot's comments without letting it become markup (issue 8.6): no
// HTML, image, link, emphasis, heading, table cell break or mention comes out of it. Every piece
// of user text the bot writes into a comment goes through Text, Code or Cell.
package markdown

import (
	"strings"

	"github.com/triagebot/triagebot/rules/command"
)

// zwsp is U+200B ZERO WIDTH SPACE: invisible, and it breaks the patterns GitHub turns into
// links (scheme://, www.) and mentions (see command.Neutralize).
const zwsp = "\u200b"

// inline is what Text always escapes: the ASCII punctuation that starts inline markup (code,
// emphasis, links, images, HTML, entities, strikethrough). '|' is left to Cell: outside a table
// it means nothing.
const inline = "\\`*_[]<>&!~"

// blockStart is what Text escapes as its first character, where it could start a block
// (heading, list, quote, setext underline) if the text begins a line.
const blockStart = "#+-=>"

// Text makes s literal inline text: white space (line breaks included) becomes one space, the
// punctuation that could start markup is backslash-escaped (put it in a table through Cell),
// bare URLs are not linked and mentions do not notify.
func Text(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(inline, c) >= 0 || (i == 0 && strings.IndexByte(blockStart, c) >= 0) || orderedMarker(s, i) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return defuseLinks(command.Neutralize(b.String()))
}

// orderedMarker: s[i] is the '.' or ')' of an ordered list marker at the start of s ("1. ").
func orderedMarker(s string, i int) bool {
	if i == 0 || (s[i] != '.' && s[i] != ')') {
		return false
	}
	for j := 0; j < i; j++ {
		if s[j] < '0' || s[j] > '9' {
			return false
		}
	}
	return true
}

// defuseLinks breaks the bare URLs GitHub links by itself (scheme://host, www.host).
func defuseLinks(s string) string {
	s = strings.ReplaceAll(s, "://", ":"+zwsp+"//")
	var b strings.Builder
	lower := strings.ToLower(s)
	last := 0
	for {
		j := strings.Index(lower[last:], "www.")
		if j < 0 {
			break
		}
		b.WriteString(s[last : last+j+3])
		b.WriteString(zwsp)
		last += j + 3
	}
	b.WriteString(s[last:])
	return b.String()
}

// Code shows s as one code span, whatever it holds: the fence is one backtick longer than the
// longest run of backticks in s, and padded with spaces when s starts or ends with a backtick or
// a space (CommonMark takes one space off each side). Line breaks become spaces. Mentions are
// neutralised too: a code span does not notify, but text copied out of it should not either.
func Code(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	s = command.Neutralize(s)
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if s == "" || s[0] == '`' || s[len(s)-1] == '`' || s[0] == ' ' || s[len(s)-1] == ' ' {
		s = " " + s + " "
	}
	return fence + s + fence
}

// Cell makes already formatted Markdown (built with Text and Code) safe in a table cell: a
// '|' would end the cell, even inside a code span, unless it is escaped.
func Cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// Login shows a GitHub login as a mention when it is one GitHub could have issued (letters,
// digits and hyphens, or an App's "name[bot]"), else as code: a login from a payload is
// GitHub's, but one typed by a user is not.
func Login(login string) string {
	if command.ValidLogin(strings.TrimSuffix(login, "[bot]")) {
		return "@" + login
	}
	return Code("@" + login)
}

// Link is a Markdown link to url with the literal text: characters that could end the link's
// destination or start markup are percent-encoded.
func Link(text, url string) string {
	return "[" + Text(text) + "](" + urlEscaper.Replace(url) + ")"
}

var urlEscaper = strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", " ", "%20",
	"\\", "%5C", "\n", "%0A", "\r", "%0D", "\"", "%22", "'", "%27", "`", "%60")
