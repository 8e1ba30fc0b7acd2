package command

import (
	"regexp"
	"strings"
	"testing"
)

// seedBodies returns the comment bodies of the table tests and of the peers'
// files.
func seedBodies(f *testing.F) []string {
	var bodies []string
	for _, cases := range [][]parseCase{commandCases(), notCommandCases(), ignoredBlockCases()} {
		for _, c := range cases {
			bodies = append(bodies, c.give)
		}
	}
	var p prowFile
	readJSON(f, "../../testdata/commands-prow-label.json", &p)
	for _, c := range p.Cases {
		bodies = append(bodies, c.Comment)
	}
	var tb triagebotFile
	readJSON(f, "../../testdata/commands-triagebot-label.json", &tb)
	for _, c := range tb.ParserCases {
		bodies = append(bodies, c.Comment)
	}
	for _, c := range tb.InputCases {
		bodies = append(bodies, c.Comment)
	}
	return bodies
}

// FuzzParse checks, for any body, that Parse does not panic and returns only
// lines that are plainly command lines; and, by construction, that a /close
// placed inside a fenced code block, a block quote's lazy continuation or an
// HTML comment is never returned, whatever comes before and after it.
func FuzzParse(f *testing.F) {
	bodies := seedBodies(f)
	for i, b := range bodies {
		f.Add(b, bodies[(i+1)%len(bodies)], bodies[(i+2)%len(bodies)], uint8(i))
	}
	f.Fuzz(func(t *testing.T, body, prefix, inner string, kind uint8) {
		checkPlainCommandLines(t, body)
		if !strings.Contains(body, "\r") {
			// Line endings do not matter.
			crlf := strings.ReplaceAll(body, "\n", "\r\n")
			if a, b := summarise(Parse(body)), summarise(Parse(crlf)); !errorsEqual(a, b) {
				t.Errorf("LF and CRLF bodies differ:\n%q\n%v\n%v", body, a, b)
			}
		}
		hidden, closeLine := hideClose(prefix, inner, body, kind)
		checkPlainCommandLines(t, hidden)
		for _, c := range Parse(hidden) {
			if c.Line == closeLine {
				t.Fatalf("command %+v found on line %d, inside a hiding block of %q", c, closeLine, hidden)
			}
		}
	})
}

func errorsEqual(a, b []got) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Line != b[i].Line || a[i].Raw != b[i].Raw || a[i].Err != b[i].Err ||
			strings.Join(a[i].Args, "\x00") != strings.Join(b[i].Args, "\x00") {
			return false
		}
	}
	return true
}

// checkPlainCommandLines is an oracle independent of the scanner: every
// command comes from a line that starts with '/' after at most three spaces
// and does not follow a quote line, and Raw and Line match it (Raw leaves
// out HTML comments).
func checkPlainCommandLines(t *testing.T, body string) {
	t.Helper()
	ls := strings.Split(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\r", "\n"), "\n")
	prev := 0
	for _, c := range Parse(body) {
		if c.Line < 1 || c.Line > len(ls) || c.Line <= prev {
			t.Fatalf("command %+v: line out of range or order (%d lines, previous %d)", c, len(ls), prev)
		}
		prev = c.Line
		line := ls[c.Line-1]
		if !strings.Contains(line, "<!--") && c.Raw != strings.TrimSpace(line) {
			t.Fatalf("command %+v: Raw is not line %d %q", c, c.Line, line)
		}
		trimmed := strings.TrimLeft(line, " ")
		if len(line)-len(trimmed) > 3 || !strings.HasPrefix(trimmed, "/") {
			t.Fatalf("command %+v from line %q, which does not start with '/' after at most three spaces", c, line)
		}
		// (A quote line that ends an HTML comment is not a quote.)
		if c.Line > 1 && strings.HasPrefix(strings.TrimLeft(ls[c.Line-2], " \t"), ">") && !strings.Contains(ls[c.Line-2], "-->") {
			t.Fatalf("command %+v on the line right after a quote line %q", c, ls[c.Line-2])
		}
		_, known := specs[c.Name]
		if c.Err == nil && !known {
			t.Fatalf("command %+v: unknown name without an error", c)
		}
		if c.Err != nil && c.Args != nil {
			t.Fatalf("command %+v: arguments with an error", c)
		}
	}
}

// hideClose builds a body with a "/close" line that GitHub renders inside a
// fenced code block, a block quote or an HTML comment, between arbitrary text
// before and after it, and returns it with the /close line's number.
//
// The text around is constrained only as far as the claim needs: the prefix
// holds no fence characters (else the opening fence below could close one of
// its fences instead), and the text inside the block holds no fence characters
// and no '>' (so neither a closing fence nor "-->" can end the block early).
// Whatever the prefix leaves open (an HTML comment, a quote, a list, indented
// code) hides the /close line too, or is ended by the block.
func hideClose(prefix, inner, suffix string, kind uint8) (string, int) {
	prefix = strings.Map(func(r rune) rune {
		if r == '`' || r == '~' {
			return -1
		}
		return r
	}, prefix)
	inner = strings.Map(func(r rune) rune {
		if r == '`' || r == '~' || r == '>' {
			return -1
		}
		return r
	}, inner)
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString("\n")
	switch kind % 3 {
	case 0: // fenced code
		fence := strings.Repeat([]string{"`", "~"}[kind>>2&1], 3+int(kind>>3&3))
		indent := strings.Repeat(" ", int(kind>>5&3))
		info := []string{"", "go", " sh title=x", ""}[kind>>6&3]
		b.WriteString(indent + fence + info + "\n" + inner + "\n")
	case 1: // a quote and its lazy continuation
		b.WriteString(strings.Repeat(">", 1+int(kind>>2&1)) + " " + strings.NewReplacer("\n", " ", "\r", " ").Replace(inner) + "\n")
	case 2: // HTML comment
		b.WriteString("<!--" + inner + "\n")
	}
	closeLine := len(lines(b.String()))
	b.WriteString("/close\n")
	switch kind % 3 {
	case 0:
		b.WriteString(strings.Repeat([]string{"`", "~"}[kind>>2&1], 3+int(kind>>3&3)) + "\n")
	case 2:
		b.WriteString("-->\n")
	}
	b.WriteString(suffix)
	return b.String(), closeLine
}

// mentionRE finds an at sign that GitHub could render as a mention: '@' (or
// a character reference or look-alike of it) not preceded by a letter or
// digit and followed by one.
var mentionRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9])(?:[@＠﹫]|&commat;|&#0*64;|&#[xX]0*40;)[A-Za-z0-9]` +
	`|(?:^|[^A-Za-z0-9])(?:&#0*64[A-Za-z]|&#[xX]0*40[G-Zg-z])`)

// FuzzNeutralize checks that Neutralize leaves no mention, is idempotent and
// changes nothing but zero-width spaces.
func FuzzNeutralize(f *testing.F) {
	for _, s := range neutralizeSeeds {
		f.Add(s)
	}
	for _, s := range seedBodies(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Neutralize(s)
		if m := mentionRE.FindString(out); m != "" {
			t.Fatalf("Neutralize(%q) = %q still holds a mention %q", s, out, m)
		}
		if again := Neutralize(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, again)
		}
		if strings.ReplaceAll(out, zwsp, "") != strings.ReplaceAll(s, zwsp, "") {
			t.Fatalf("Neutralize(%q) = %q changed more than zero-width spaces", s, out)
		}
	})
}
