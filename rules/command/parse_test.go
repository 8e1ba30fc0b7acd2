package command

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// got is what a test compares: a command without its error value, which is
// reduced to its class.
type got struct {
	Name string
	Args []string
	Line int
	Raw  string
	Err  error // the sentinel Err wraps, or nil
}

func summarise(cmds []Command) []got {
	var out []got
	for _, c := range cmds {
		g := got{Name: c.Name, Args: c.Args, Line: c.Line, Raw: c.Raw}
		for _, e := range []error{ErrUnknown, ErrSyntax, ErrArgs, ErrLogin} {
			if errors.Is(c.Err, e) {
				g.Err = e
			}
		}
		if c.Err != nil && g.Err == nil {
			g.Err = c.Err
		}
		out = append(out, g)
	}
	return out
}

var errOpt = cmp.Comparer(func(a, b error) bool { return a == b })

// ok builds the expected command on line 1 with Raw equal to the line.
func ok(raw, name string, args ...string) got {
	return got{Name: name, Args: args, Line: 1, Raw: raw}
}

func bad(raw, name string, err error) got {
	return got{Name: name, Line: 1, Raw: raw, Err: err}
}

func at(line int, g got) got {
	g.Line = line
	return g
}

type parseCase struct {
	name string
	give string
	want []got
}

func runParseCases(t *testing.T, tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarise(Parse(tt.give)), errOpt); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.give, diff)
			}
		})
	}
}

func TestParseCommands(t *testing.T) { runParseCases(t, commandCases()) }

func commandCases() []parseCase {
	return []parseCase{
		{name: "empty", give: "", want: nil},
		{name: "prose", give: "thanks, looks good", want: nil},
		{name: "label", give: "/label bug", want: []got{ok("/label bug", Label, "bug")}},
		{name: "label several", give: "/label bug area/api", want: []got{ok("/label bug area/api", Label, "bug", "area/api")}},
		{name: "label quoted", give: `/label "good first issue" bug`, want: []got{ok(`/label "good first issue" bug`, Label, "good first issue", "bug")}},
		{name: "label quoted with colon", give: `/label "priority: high"`, want: []got{ok(`/label "priority: high"`, Label, "priority: high")}},
		{name: "label keeps case", give: "/label Bug", want: []got{ok("/label Bug", Label, "Bug")}},
		{name: "label runs of white space", give: "/label  bug\t\tdocs ", want: []got{ok("/label  bug\t\tdocs", Label, "bug", "docs")}},
		{name: "label without argument", give: "/label", want: []got{bad("/label", Label, ErrArgs)}},
		{name: "label unterminated quote", give: `/label "good first`, want: []got{bad(`/label "good first`, Label, ErrSyntax)}},
		{name: "label quote inside word", give: `/label good"first`, want: []got{bad(`/label good"first`, Label, ErrSyntax)}},
		{name: "label text after closing quote", give: `/label "a"b`, want: []got{bad(`/label "a"b`, Label, ErrSyntax)}},
		{name: "label empty quotes", give: `/label ""`, want: []got{bad(`/label ""`, Label, ErrSyntax)}},
		{name: "remove-label", give: "/remove-label bug docs", want: []got{ok("/remove-label bug docs", RemoveLabel, "bug", "docs")}},
		{name: "remove-label quoted", give: `/remove-label "needs triage"`, want: []got{ok(`/remove-label "needs triage"`, RemoveLabel, "needs triage")}},
		{name: "remove-label without argument", give: "/remove-label", want: []got{bad("/remove-label", RemoveLabel, ErrArgs)}},
		{name: "priority", give: "/priority high", want: []got{ok("/priority high", Priority, "high")}},
		{name: "priority none", give: "/priority none", want: []got{ok("/priority none", Priority, "none")}},
		{name: "priority any level, validated later", give: "/priority Critical", want: []got{ok("/priority Critical", Priority, "Critical")}},
		{name: "priority quoted level", give: `/priority "very high"`, want: []got{ok(`/priority "very high"`, Priority, "very high")}},
		{name: "priority missing", give: "/priority", want: []got{bad("/priority", Priority, ErrArgs)}},
		{name: "priority two", give: "/priority high low", want: []got{bad("/priority high low", Priority, ErrArgs)}},
		{name: "triage", give: "/triage", want: []got{ok("/triage", Triage)}},
		{name: "triage with argument", give: "/triage accepted", want: []got{bad("/triage accepted", Triage, ErrArgs)}},
		{name: "needs-triage", give: "/needs-triage", want: []got{ok("/needs-triage", NeedsTriage)}},
		{name: "assign self", give: "/assign", want: []got{ok("/assign", Assign)}},
		{name: "assign users", give: "/assign @alice bob-2", want: []got{ok("/assign @alice bob-2", Assign, "alice", "bob-2")}},
		{name: "assign team", give: "/assign @org/team", want: []got{bad("/assign @org/team", Assign, ErrLogin)}},
		{name: "assign bad login", give: "/assign @-x", want: []got{bad("/assign @-x", Assign, ErrLogin)}},
		{name: "assign double hyphen", give: "/assign @a--b", want: []got{bad("/assign @a--b", Assign, ErrLogin)}},
		{name: "assign 39 chars", give: "/assign @a23456789012345678901234567890123456789", want: []got{ok("/assign @a23456789012345678901234567890123456789", Assign, "a23456789012345678901234567890123456789")}},
		{name: "assign 40 chars", give: "/assign @a234567890123456789012345678901234567890", want: []got{bad("/assign @a234567890123456789012345678901234567890", Assign, ErrLogin)}},
		{name: "assign bare at", give: "/assign @", want: []got{bad("/assign @", Assign, ErrLogin)}},
		{name: "assign email", give: "/assign a@b.com", want: []got{bad("/assign a@b.com", Assign, ErrLogin)}},
		{name: "unassign", give: "/unassign @alice", want: []got{ok("/unassign @alice", Unassign, "alice")}},
		{name: "unassign self", give: "/unassign", want: []got{ok("/unassign", Unassign)}},
		{name: "close", give: "/close", want: []got{ok("/close", Close)}},
		{name: "close completed", give: "/close Completed", want: []got{ok("/close Completed", Close, ReasonCompleted)}},
		{name: "close not-planned", give: "/close not-planned", want: []got{ok("/close not-planned", Close, ReasonNotPlanned)}},
		{name: "close not_planned as the API spells it", give: "/close not_planned", want: []got{ok("/close not_planned", Close, ReasonNotPlanned)}},
		{name: "close bad reason", give: "/close duplicate", want: []got{bad("/close duplicate", Close, ErrArgs)}},
		{name: "close two reasons", give: "/close completed not-planned", want: []got{bad("/close completed not-planned", Close, ErrArgs)}},
		{name: "reopen", give: "/reopen", want: []got{ok("/reopen", Reopen)}},
		{name: "coc", give: "/coc", want: []got{ok("/coc", CoC)}},
		{name: "notify", give: "/notify", want: []got{ok("/notify", Notify)}},
		{name: "notify text is one unparsed argument", give: `/notify  this "crashes  prod `, want: []got{ok(`/notify  this "crashes  prod`, Notify, `this "crashes  prod`)}},
		{name: "help", give: "/help", want: []got{ok("/help", Help)}},
		{name: "why", give: "/why", want: []got{ok("/why", Why)}},
		{name: "why with text", give: "/why did you do that", want: []got{bad("/why did you do that", Why, ErrArgs)}},
		{name: "unknown", give: "/lable bug", want: []got{bad("/lable bug", "lable", ErrUnknown)}},
		{name: "unknown lower-cased", give: "/Frobnicate", want: []got{bad("/Frobnicate", "frobnicate", ErrUnknown)}},
		{name: "case-insensitive name", give: "/LaBeL bug", want: []got{ok("/LaBeL bug", Label, "bug")}},
		{name: "case-insensitive hyphenated", give: "/Remove-Label bug", want: []got{ok("/Remove-Label bug", RemoveLabel, "bug")}},
		{name: "tab after name", give: "/label\tbug", want: []got{ok("/label\tbug", Label, "bug")}},
		{name: "one leading space", give: " /close", want: []got{ok("/close", Close)}},
		{name: "three leading spaces", give: "   /close", want: []got{ok("/close", Close)}},
		{name: "trailing white space", give: "/close   \t", want: []got{ok("/close", Close)}},
		{name: "CRLF", give: "/label bug\r\n/close\r\n", want: []got{ok("/label bug", Label, "bug"), at(2, ok("/close", Close))}},
		{name: "lone CR ends a line", give: "hi\r/close", want: []got{at(2, ok("/close", Close))}},
		{name: "several in order", give: "Thanks!\n/label bug\n\n/assign @alice\n/priority high\n/triage",
			want: []got{at(2, ok("/label bug", Label, "bug")), at(4, ok("/assign @alice", Assign, "alice")),
				at(5, ok("/priority high", Priority, "high")), at(6, ok("/triage", Triage))}},
		{name: "errors do not stop the others", give: "/lable bug\n/label bug",
			want: []got{bad("/lable bug", "lable", ErrUnknown), at(2, ok("/label bug", Label, "bug"))}},
		{name: "same command twice", give: "/close\n/close", want: []got{ok("/close", Close), at(2, ok("/close", Close))}},
		{name: "line after prose", give: "please\n/close", want: []got{at(2, ok("/close", Close))}},
		{name: "only at the start of a line", give: "please /close this", want: nil},
		{name: "comment at end of a command line is dropped", give: "/label bug <!-- because -->", want: []got{ok("/label bug", Label, "bug")}},
		{name: "comment inside a command line is not echoed", give: "/label a <!-- secret --> b", want: []got{ok("/label a  b", Label, "a", "b")}},
		{name: "comment opening at end of a command line", give: "/label bug <!-- because\n/close\n-->", want: []got{ok("/label bug", Label, "bug")}},
	}
}

// TestParseNotCommandAttempts: a '/' line is a command attempt only when the
// '/' is followed by a word of letters and hyphens and then white space or the
// end of the line. Everything else is prose and returns nothing (not even an
// "unknown command").
func TestParseNotCommandAttempts(t *testing.T) { runParseCases(t, notCommandCases()) }

func notCommandCases() []parseCase {
	return []parseCase{
		{name: "path", give: "/usr/bin/env bash"},
		{name: "url path", give: "/repos/o/r/issues"},
		{name: "slash space", give: "/ 2"},
		{name: "bare slash", give: "/"},
		{name: "double slash", give: "// comment"},
		{name: "digit first", give: "/2fa"},
		{name: "digit inside", give: "/v2"},
		{name: "punctuation after", give: "/close."},
		{name: "colon after", give: "/label: bug"},
		{name: "hyphen first", give: "/-x"},
		{name: "non-ASCII letter", give: "/étiquette bug"},
		{name: "slash in text", give: "and/or /close"},
		{name: "list item", give: "- /close"},
		{name: "numbered list item", give: "1. /close"},
		{name: "emphasis", give: "*/close*"},
		{name: "inline code", give: "`/close`"},
		{name: "non-breaking space indent", give: "\u00a0/close"},
		{name: "unknown word is an attempt", give: "/etc", want: []got{bad("/etc", "etc", ErrUnknown)}},
	}
}

func TestParseIgnoredBlocks(t *testing.T) { runParseCases(t, ignoredBlockCases()) }

func ignoredBlockCases() []parseCase {
	closeAt := func(line int) []got { return []got{at(line, ok("/close", Close))} }
	return []parseCase{
		{name: "backtick fence", give: "```\n/close\n```"},
		{name: "tilde fence", give: "~~~\n/close\n~~~"},
		{name: "fence with info string", give: "```bash\n/close\n```\n/label bug", want: []got{at(4, ok("/label bug", Label, "bug"))}},
		{name: "after a closed fence", give: "```\ncode\n```\n/close", want: closeAt(4)},
		{name: "shorter fence does not close", give: "````\n```\n/close\n````\n/reopen", want: []got{at(5, ok("/reopen", Reopen))}},
		{name: "longer fence closes", give: "```\n/close\n`````\n/reopen", want: []got{at(4, ok("/reopen", Reopen))}},
		{name: "other fence char does not close", give: "~~~\n```\n/close\n```\n~~~\n/reopen", want: []got{at(6, ok("/reopen", Reopen))}},
		{name: "closing fence with trailing text is content", give: "```\n``` x\n/close\n```"},
		{name: "unclosed fence hides the rest", give: "/label bug\n```\n/close\n\n/reopen", want: []got{ok("/label bug", Label, "bug")}},
		{name: "indented fence", give: "   ```\n/close\n   ```\n/reopen", want: []got{at(4, ok("/reopen", Reopen))}},
		{name: "closing fence indented four is content", give: "```\n    ```\n/close\n```"},
		{name: "fence in a list item", give: "- ```\n  /close\n  ```\n\n/reopen", want: []got{at(5, ok("/reopen", Reopen))}},
		{name: "backticks with backtick info are inline code", give: "```x```\n/close", want: closeAt(2)},
		{name: "two backticks are not a fence", give: "``\n/close", want: closeAt(2)},
		{name: "tilde info may hold backticks", give: "~~~ a`b\n/close\n~~~"},
		{name: "fence right after a quote", give: "> q\n```\n/close\n```\n/reopen", want: []got{at(5, ok("/reopen", Reopen))}},
		{name: "four spaces", give: "    /close"},
		{name: "tab", give: "\t/close"},
		{name: "space and tab", give: "  \t/close"},
		{name: "indented in a paragraph is still never a command", give: "text\n    /close"},
		{name: "quote", give: "> /close"},
		{name: "indented quote", give: "  > /close"},
		{name: "nested quote", give: "> > /close"},
		{name: "quote in a list", give: "- > /close"},
		{name: "line right after a quote", give: "> you wrote\n/close"},
		{name: "paragraph after a quote", give: "> you wrote\nand then\n/close"},
		{name: "after a quote and a blank line", give: "> you wrote\n\n/close", want: closeAt(3)},
		{name: "after a quote and a white-space line", give: "> you wrote\n \t\n/close", want: closeAt(3)},
		{name: "html comment", give: "<!-- /close -->\n/reopen", want: []got{at(2, ok("/reopen", Reopen))}},
		{name: "multi-line html comment", give: "<!--\n/close\n-->\n/reopen", want: []got{at(4, ok("/reopen", Reopen))}},
		{name: "html comment with blank lines", give: "<!--\n\n/close\n\n-->\n/reopen", want: []got{at(6, ok("/reopen", Reopen))}},
		{name: "html comment holding a fence", give: "<!--\n```\nx\n```\n-->\n/close", want: closeAt(6)},
		{name: "html comment holding an unbalanced fence hides the rest", give: "<!--\n```\n-->\n/close"},
		{name: "comment in a quote, then a fence", give: "> <!--\n\n```\n/close\n-->\n/label x\n```"},
		{name: "indented comment, then a fence", give: "    <!--\n```\n/close\n-->\n/label x\n```"},
		{name: "unclosed html comment", give: "<!--\n/close"},
		{name: "two comments", give: "<!-- a -->\n/close\n<!--\n/label x\n-->\n/reopen", want: []got{at(2, ok("/close", Close)), at(6, ok("/reopen", Reopen))}},
		{name: "text after comment end on the same line", give: "<!--\nx --> /close"},
		{name: "comment then command on its line is not at line start", give: "<!-- x -->/close"},
		{name: "comment ending then opening on one line", give: "<!--\n--> <!--\n/close\n-->"},
		{name: "inline comment spanning lines", give: "text <!-- hidden\n/close\n-->\n/reopen", want: []got{at(4, ok("/reopen", Reopen))}},
		{name: "inline comment ended by a blank line", give: "text <!-- not a comment\n\n/close", want: closeAt(3)},
		{name: "inline comment interrupted by a fence", give: "text <!--\n```\n-->\n/close\n```"},
		{name: "inline comment interrupted by a quote", give: "text <!--\n> q\n-->\n/close"},
		{name: "comment marker inside a fence", give: "```\n<!--\n```\n/close", want: closeAt(4)},
		{name: "comment in a list item spans blank lines", give: "- <!--\n\n  /close\n  -->"},
		{name: "self-closing looking comment hides more", give: "<!-->\n/close\n-->"},
	}
}

// TestErrorMessages pins the wording users read in the bot's reply.
func TestErrorMessages(t *testing.T) {
	tests := []struct{ give, want string }{
		{give: "/lable bug", want: "unknown command /lable"},
		{give: "/label", want: "/label: invalid arguments: needs at least one argument"},
		{give: "/priority", want: "/priority: invalid arguments: needs one argument"},
		{give: "/priority high low", want: "/priority: invalid arguments: takes one argument, got 2"},
		{give: "/triage accepted", want: "/triage: invalid arguments: takes no arguments"},
		{give: "/close duplicate", want: "/close: invalid arguments: the reason is `completed` or `not-planned`, not `duplicate`"},
		{give: `/label "good first`, want: "/label: syntax error: unterminated quote in `\"good first`"},
		{give: `/label good"first`, want: "/label: syntax error: quote inside `good\"first` (quote the whole name)"},
		{give: "/assign @org/everyone", want: "/assign: invalid login: `@\u200borg/everyone` is a team; only users can be assigned"},
		{give: "/assign @-x", want: "/assign: invalid login: `@-x` is not a GitHub login"},
		{give: "/assign @" + strings.Repeat("a", 100), want: "/assign: invalid login: `@\u200b" + strings.Repeat("a", 59) + "…` is not a GitHub login"},
	}
	for _, tt := range tests {
		cmds := Parse(tt.give)
		if len(cmds) != 1 || cmds[0].Err == nil {
			t.Errorf("Parse(%q) = %+v, want one command with an error", tt.give, cmds)
			continue
		}
		if got := cmds[0].Err.Error(); got != tt.want {
			t.Errorf("Parse(%q).Err = %q, want %q", tt.give, got, tt.want)
		}
	}
}

// TestNames: every name /help lists has a grammar, and every grammar a name.
func TestNames(t *testing.T) {
	names := Names()
	if len(names) != len(specs) {
		t.Errorf("Names() has %d names, the grammar %d", len(names), len(specs))
	}
	for _, n := range names {
		if _, ok := specs[n]; !ok {
			t.Errorf("Names() lists %q, which has no grammar", n)
		}
		if got := Parse("/" + n); len(got) != 1 || got[0].Name != n || errors.Is(got[0].Err, ErrUnknown) {
			t.Errorf("Parse(%q) = %+v, want the command %q", "/"+n, got, n)
		}
	}
}
