package command

import "strings"

// scanner walks a comment body line by line and tracks the block structure
// that hides commands: fenced code, block quotes and HTML comments. It is a
// deliberately small approximation of CommonMark, which errs towards hiding
// more than GitHub does:
//
//   - A fence opened after a list marker may be closed by a fence indented at
//     most max(3, column of the opening fence) columns; CommonMark allows up to
//     three columns past the list item's content column, so we may keep a
//     list item's code block open a little longer.
//   - A line that ends a list item, and with it the item's code block, does not
//     end our fence: only a closing fence does.
//   - A fence line indented four columns or more opens a fence (it may be
//     indented code, or a fence inside a list item).
//   - Fences inside block quotes are not tracked, because every quote line
//     and the paragraph after it are ignored anyway.
//   - An HTML comment runs to its "-->" even where GitHub ends it earlier (at
//     the end of the quote or list item holding it), and "<!--" indented four
//     columns opens one. So that a real fence is not missed there, a fence
//     line inside a comment opens a fence too, with the comment still open
//     behind it: an unbalanced fence inside a comment hides the rest.
//   - A "<!--" inside an inline code span still opens a comment (as in Prow,
//     which strips every <!-- --> before matching).
//   - An HTML comment that starts in the middle of a paragraph hides the lines
//     up to "-->" unless a blank line, a fence or a block quote ends the
//     paragraph first; then GitHub shows those lines, and we still ignored
//     them.
//
// One known gap hides less: a "<!--" inside what we take for a fence but
// GitHub does not (a fence line indented four columns, or inside a raw HTML
// block such as <div>) opens no comment here, so a command after that
// "fence" and before the "-->" would run although GitHub hides it. Only the
// comment's author can arrange that, and they could as well type the command
// in the open; quoted and copied text (quotes, code) is always ignored.
type scanner struct {
	fence    byte // '`' or '~' while inside a fenced code block, else 0
	fenceLen int  // length of the opening fence
	fenceMax int  // a closing fence may be indented at most this many columns

	// comment is blockComment or inlineComment while inside <!-- -->.
	comment commentKind

	// quote is set after a block-quote line and cleared by a blank line or by a
	// line that starts a fence or an HTML block: until then an unprefixed line
	// is a lazy continuation of the quote's paragraph.
	quote bool
}

type commentKind uint8

const (
	noComment commentKind = iota
	// blockComment is an HTML block that started with "<!--" at the start of
	// a line: it runs to the line holding "-->", whatever lies between.
	blockComment
	// inlineComment started in the middle of a line of a paragraph: it is
	// only a comment if it ends before the paragraph does.
	inlineComment
)

// next classifies one line (without its line ending). It returns the text of
// the line with HTML comments removed and true when the line may hold a
// command: it starts, after at most three spaces, with '/' and lies outside
// every code block, quote and comment.
func (s *scanner) next(line string) (string, bool) {
	if s.fence != 0 {
		if s.closesFence(line) {
			s.fence = 0
		}
		return "", false
	}
	switch s.comment {
	case blockComment:
		// A fence line inside a comment opens a fence as well, and the
		// comment stays open behind it: if GitHub ended the comment
		// earlier than we do (a comment in a quote or a list item ends
		// with it; "<!--" indented four columns is code), this is a real
		// fence, and treating it as one only hides more.
		if s.opensFence(splitMarkers(line)) {
			return "", false
		}
		end := strings.Index(line, "-->")
		if end < 0 {
			return "", false
		}
		s.comment = noComment
		s.stripComments(line[end+3:])
		return "", false
	case inlineComment:
		if isBlank(line) {
			// The paragraph ended before the comment did, so it was not
			// a comment after all; the lines in between were shown.
			s.comment = noComment
			s.quote = false
			return "", false
		}
		if !s.startsBlock(line) {
			end := strings.Index(line, "-->")
			if end < 0 {
				return "", false
			}
			s.comment = noComment
			s.stripComments(line[end+3:])
			return "", false
		}
		// A fence, a quote or an HTML block interrupts the paragraph:
		// the comment never was one, and this line starts a new block.
		s.comment = noComment
	}

	if isBlank(line) {
		s.quote = false
		return "", false
	}
	col, rest := skipIndent(line, 0)
	content, ccol := splitMarkers(line)
	switch {
	case strings.HasPrefix(content, ">"):
		s.quote = true
		s.stripComments(strings.TrimLeft(content, "> \t"))
		return "", false
	case s.opensFence(content, ccol):
		s.quote = false
		return "", false
	case strings.HasPrefix(content, "<!--"):
		s.quote = false
	}
	// content is rest unless the line starts with a list marker, and then
	// it cannot be a command anyway.
	visible := s.stripComments(content)
	if s.quote || col >= 4 || !strings.HasPrefix(rest, "/") {
		return "", false
	}
	return visible, true
}

// startsBlock reports whether line starts a block that interrupts a
// paragraph and would end an inline comment: a block quote, a fence or an
// HTML comment block.
func (s *scanner) startsBlock(line string) bool {
	content, _ := splitMarkers(line)
	if strings.HasPrefix(content, ">") || strings.HasPrefix(content, "<!--") {
		return true
	}
	_, _, ok := fenceOpening(content)
	return ok
}

// opensFence reports whether content (a line after its indentation and list
// markers, starting at column col) opens a fenced code block, and if so
// enters it. Fences are recognised at any indentation: a line indented four
// or more columns may be indented code, but it may also be a fence inside a
// list item, and treating it as a fence only ever hides more.
func (s *scanner) opensFence(content string, col int) bool {
	ch, n, ok := fenceOpening(content)
	if !ok {
		return false
	}
	s.fence, s.fenceLen, s.fenceMax = ch, n, max(3, col)
	return true
}

// fenceOpening reports whether s starts with a CommonMark code fence: three
// or more backticks or tildes; after backticks, the info string may not
// contain a backtick (else the line is inline code).
func fenceOpening(s string) (ch byte, n int, ok bool) {
	if s == "" || (s[0] != '`' && s[0] != '~') {
		return 0, 0, false
	}
	ch = s[0]
	for n < len(s) && s[n] == ch {
		n++
	}
	if n < 3 {
		return 0, 0, false
	}
	if ch == '`' && strings.IndexByte(s[n:], '`') >= 0 {
		return 0, 0, false
	}
	return ch, n, true
}

// closesFence reports whether line closes the open fence: the same character,
// at least as many, indented at most fenceMax columns, then only white space.
func (s *scanner) closesFence(line string) bool {
	col, rest := skipIndent(line, 0)
	if col > s.fenceMax {
		return false
	}
	n := 0
	for n < len(rest) && rest[n] == s.fence {
		n++
	}
	return n >= s.fenceLen && isBlank(rest[n:])
}

// stripComments returns line without its HTML comments and records whether
// a comment is left open at the end of the line. line is a line's content
// after its indentation, list and quote markers: a comment that opens at its
// very start is an HTML block, one that opens later is inline.
func (s *scanner) stripComments(line string) string {
	var b strings.Builder
	first := true
	for {
		start := strings.Index(line, "<!--")
		if start < 0 {
			b.WriteString(line)
			return b.String()
		}
		b.WriteString(line[:start])
		// Search for the end after "<!--", so "<!-->" does not close
		// itself: if in doubt, hide more.
		end := strings.Index(line[start+4:], "-->")
		if end < 0 {
			if first && start == 0 {
				s.comment = blockComment
			} else {
				s.comment = inlineComment
			}
			return b.String()
		}
		line = line[start+4+end+3:]
		first = false
	}
}

// skipIndent skips spaces and tabs at the start of s, which begins at column
// col, and returns the column reached and the rest of s. A tab advances to
// the next multiple of four.
func skipIndent(s string, col int) (int, string) {
	i := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ':
			col++
		case '\t':
			col += 4 - col%4
		default:
			return col, s[i:]
		}
	}
	return col, ""
}

// splitMarkers returns the content of line after its indentation and list
// markers, and the column where it starts.
func splitMarkers(line string) (string, int) {
	col, rest := skipIndent(line, 0)
	return skipListMarkers(rest, col)
}

// skipListMarkers skips any list markers ("-", "*", "+", "1." or "1)"
// followed by white space or the end of the line) at the start of s, with
// the white space after each, and returns the rest and its column.
func skipListMarkers(s string, col int) (string, int) {
	for {
		n := listMarker(s)
		if n == 0 {
			return s, col
		}
		col, s = skipIndent(s[n:], col+n)
	}
}

func listMarker(s string) int {
	n := 0
	switch {
	case s == "":
		return 0
	case s[0] == '-' || s[0] == '*' || s[0] == '+':
		n = 1
	default:
		for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 || n >= len(s) || (s[n] != '.' && s[n] != ')') {
			return 0
		}
		n++
	}
	if n < len(s) && s[n] != ' ' && s[n] != '\t' {
		return 0
	}
	return n
}

func isBlank(s string) bool {
	return strings.Trim(s, " \t") == ""
}
