package command

import "strings"

// zwsp is U+200B ZERO WIDTH SPACE.
const zwsp = "\u200b"

// Neutralize makes user text safe to echo in a comment the bot posts: no at
// sign in it can mention a user or a team. A zero-width space is inserted
// right after every at sign that is followed by an ASCII letter or digit (the
// first character of a login) and not preceded by one: "@org/everyone"
// becomes "@\u200borg/everyone", which reads the same but does not link or
// notify, because GitHub needs the login right after the '@'. Dependabot does
// the same with the logins it copies into release notes.
//
// At signs are '@', its HTML character references (&#64; &#x40; &commat;,
// because GitHub finds mentions in the rendered text, where references are
// decoded) and, to be safe, the full-width and small commercial at.
//
// Unlike wrapping in backticks, this works inside code spans, links and
// tables, and no backtick in the text can undo it. An '@' right after a letter
// or digit is not a mention on GitHub, so e-mail addresses (a@b.com) are kept.
// Neutralize is idempotent, and removing every zero-width space from its
// result gives the same as removing them from its input. Neutralise each
// piece of user text as it is put into a message, after any shortening.
func Neutralize(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		n := atSignAt(s, i)
		if n == 0 {
			i++
			continue
		}
		j := i + n
		if j < len(s) && isAlnum(s[j]) && (i == 0 || !isAlnum(s[i-1])) {
			b.WriteString(s[last:j])
			b.WriteString(zwsp)
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// atSignAt returns the length of the at sign that starts at s[i], or 0.
func atSignAt(s string, i int) int {
	s = s[i:]
	switch {
	case s == "":
		return 0
	case s[0] == '@':
		return 1
	case strings.HasPrefix(s, "\uff20"), strings.HasPrefix(s, "\ufe6b"):
		return 3
	case strings.HasPrefix(s, "&commat;"):
		return len("&commat;")
	case strings.HasPrefix(s, "&#"):
		return numericAt(s)
	}
	return 0
}

// numericAt returns the length of s's leading numeric character reference
// (with its ';', which HTML parsers also accept missing) if it stands for
// '@', or 0.
func numericAt(s string) int {
	n, base := 2, 10
	if len(s) > n && (s[n] == 'x' || s[n] == 'X') {
		n, base = n+1, 16
	}
	start, v := n, 0
	for ; n < len(s); n++ {
		d := digit(s[n], base)
		if d < 0 {
			break
		}
		if v <= 0x10ffff {
			v = v*base + d
		}
	}
	if n == start || v != '@' {
		return 0
	}
	if n < len(s) && s[n] == ';' {
		n++
	}
	return n
}

func digit(b byte, base int) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case base == 16 && 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case base == 16 && 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

func isAlnum(b byte) bool {
	return isLetter(b) || ('0' <= b && b <= '9')
}
