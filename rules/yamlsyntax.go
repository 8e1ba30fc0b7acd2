package rules

import (
	"strconv"
	"strings"
)

// plainYAML says yaml.v3's syntax errors in words a maintainer acts on.
var plainYAML = []struct{ yaml, say string }{
	{"did not find expected node content", "a value is missing, or a '[' or '{' is not closed"},
	{"found unexpected end of stream", "the file ends inside a quoted string or a bracket: a quote or bracket is not closed"},
	{"mapping values are not allowed in this context", "a ':' where no key can start: quote a value that contains ': ', or give the key on the line before its ':'"},
	{"did not find expected key", "this line's indentation does not line up with the keys above it"},
	{"did not find expected '-' indicator", "this line's indentation does not line up with the list above it"},
	{"did not find expected ',' or '}'", "a '{' is not closed with '}', or its items lack a ','"},
	{"did not find expected ',' or ']'", "a '[' is not closed with ']', or its items lack a ','"},
	{"could not find expected ':'", "a key without ':' after it"},
	{"found character that cannot start any token", "a character that cannot start a value (a tab used for indentation, '@' or '`'): indent with spaces, quote the value"},
	{"found a tab character", "a tab: YAML indents with spaces only"},
	{"block sequence entries are not allowed in this context", "a '- ' list item where a value was expected: put the list on the lines below its key, indented"},
	{"found duplicate key", "a key repeated"},
}

// syntaxError turns yaml.v3's error into a FieldError with the line of the problem and a plain
// message (yaml's own words kept in brackets, for searching).
func syntaxError(err error, data []byte) FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		line = 1 // yaml.v3 leaves out "line 1"
	}
	switch {
	case msg == "did not find expected key" || msg == "did not find expected '-' indicator":
		line = misindented(data, line)
	case strings.HasSuffix(msg, "',' or '}'"):
		line = unclosed(data, line, '{', '}')
	case strings.HasSuffix(msg, "',' or ']'"):
		line = unclosed(data, line, '[', ']')
	}
	for _, p := range plainYAML {
		if strings.HasPrefix(msg, p.yaml) {
			return FieldError{Line: line, Msg: p.say + " (yaml: " + msg + ")"}
		}
	}
	return FieldError{Line: line, Msg: msg}
}

// misindented finds the first line, from line from on (yaml.v3 reports the enclosing block's
// line), whose indentation matches no open block: deeper than a line that opens none, or back to
// a column no enclosing key or list item uses.
func misindented(data []byte, from int) int {
	stack := []int{0}
	opens := false
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		n := len(line) - len(strings.TrimLeft(line, " "))
		bad := false
		if n > stack[len(stack)-1] {
			bad = !opens
			stack = append(stack, n)
		} else {
			for len(stack) > 1 && n < stack[len(stack)-1] {
				stack = stack[:len(stack)-1]
			}
			bad = n != stack[len(stack)-1]
		}
		if bad && i+1 >= from {
			return i + 1
		}
		if strings.HasPrefix(t, "- ") {
			stack = append(stack, n+2) // the item's keys line up after the dash
		}
		opens = strings.HasSuffix(t, ":") || t == "-"
	}
	return from
}

// unclosed finds, from line from on, the first line that opens more brackets than it closes
// (yaml.v3 reports the enclosing block's line).
func unclosed(data []byte, from int, open, close byte) int {
	lines := strings.Split(string(data), "\n")
	for i := max(from-1, 0); i < len(lines); i++ {
		if strings.Count(lines[i], string(open)) > strings.Count(lines[i], string(close)) {
			return i + 1
		}
	}
	return from
}
