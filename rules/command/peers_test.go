package command

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The peers' cases are data files describing Prow's label plugin and
// rust-lang/triagebot's "@rustbot label" command. Our grammar is neither, so
// each test below says, case by case, where it agrees and where it differs on
// purpose.

type prowFile struct {
	Semantics struct {
		Regexes map[string]string `json:"regexes"`
	} `json:"semantics"`
	Cases []struct {
		Name    string `json:"name"`
		Comment string `json:"comment"`
		Action  string `json:"action"`
		Note    string `json:"note"`
	} `json:"cases"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// prowCommand is a command line as Prow's regexes see it.
type prowCommand struct {
	name string   // "area", "remove-area", "label", "remove-label", ...
	args []string // lower-cased, empty ones dropped
	pos  int
}

// prowCommands applies the regexes recorded in the peer file, as Prow does:
// HTML comments stripped first, then each regex over the whole comment.
func prowCommands(t *testing.T, f prowFile, comment string) []prowCommand {
	t.Helper()
	re := func(key string) *regexp.Regexp {
		s, ok := f.Semantics.Regexes[key]
		if !ok {
			t.Fatalf("peer file has no regex %q", key)
		}
		return regexp.MustCompile(s)
	}
	stripped := re("html_comment_stripped_first").ReplaceAllString(comment, "")
	var out []prowCommand
	add := func(pos int, name, args string) {
		var a []string
		for _, s := range strings.Split(args, " ") {
			if s != "" {
				a = append(a, strings.ToLower(s))
			}
		}
		out = append(out, prowCommand{name: name, args: a, pos: pos})
	}
	for _, m := range re("label").FindAllStringSubmatchIndex(stripped, -1) {
		add(m[0], stripped[m[2]:m[3]], stripped[m[4]:m[5]])
	}
	for _, m := range re("remove").FindAllStringSubmatchIndex(stripped, -1) {
		add(m[0], "remove-"+stripped[m[2]:m[3]], stripped[m[4]:m[5]])
	}
	for _, m := range re("custom").FindAllStringSubmatchIndex(stripped, -1) {
		add(m[0], Label, stripped[m[2]:m[3]])
	}
	for _, m := range re("custom_remove").FindAllStringSubmatchIndex(stripped, -1) {
		add(m[0], RemoveLabel, stripped[m[2]:m[3]])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pos < out[j].pos })
	return out
}

func lower(ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, strings.ToLower(s))
	}
	return out
}

// TestPeerProwLabel checks, for every case of commands-prow-label.json, that
// we find a command on exactly the lines where Prow's regexes do, and what
// each becomes in our grammar.
func TestPeerProwLabel(t *testing.T) {
	var f prowFile
	readJSON(t, "../../testdata/commands-prow-label.json", &f)
	if len(f.Cases) == 0 {
		t.Fatal("no cases")
	}
	// Cases where we find other command lines than Prow, on purpose.
	recognitionDiffers := map[string]string{
		"Command must start at the beginning of the line": "we allow up to three leading spaces, " +
			"as CommonMark does for a paragraph line; four or more are indented code and never a command",
	}
	used := map[string]bool{}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			prow := prowCommands(t, f, c.Comment)
			ours := Parse(c.Comment)
			if c.Action != "created" {
				// Prow ignores edited and deleted comments. The grammar
				// knows nothing of actions: the caller runs nothing for a
				// deleted comment and AddedCommands for an edited one.
				t.Logf("differs: Prow ignores action %q; for an edit we run the commands the edit added", c.Action)
				if c.Action == "edited" {
					if diff := cmp.Diff(summarise(ours), summarise(AddedCommands("", c.Comment)), errOpt); diff != "" {
						t.Errorf("an edit that adds the command line should run it (-Parse +AddedCommands):\n%s", diff)
					}
				}
			}
			var prowNames, ourNames []string
			for _, p := range prow {
				prowNames = append(prowNames, p.name)
			}
			for _, o := range ours {
				ourNames = append(ourNames, o.Name)
			}
			if why, ok := recognitionDiffers[c.Name]; ok {
				used[c.Name] = true
				t.Logf("differs: Prow finds %q, we find %q: %s", prowNames, ourNames, why)
				if cmp.Equal(prowNames, ourNames) {
					t.Errorf("listed as differing but both find %q", ourNames)
				}
				return
			}
			if diff := cmp.Diff(prowNames, ourNames); diff != "" {
				t.Fatalf("command lines of %q (-Prow +ours):\n%s", c.Comment, diff)
			}
			for i, p := range prow {
				checkProwCommand(t, p, ours[i])
			}
		})
	}
	// semantics.code_blocks_and_quotes: Prow matches a command line inside
	// a fence; we never do.
	fenced := "```\n/kind bug\n```"
	if p, o := prowCommands(t, f, fenced), Parse(fenced); len(p) != 1 || len(o) != 0 {
		t.Errorf("%q: Prow finds %v, we %v; want Prow one, we none", fenced, p, o)
	} else {
		t.Logf("differs: Prow runs %q from inside a code fence, we ignore fenced and indented code and quotes", "/kind bug")
	}
	for name := range recognitionDiffers {
		if !used[name] {
			t.Errorf("recognitionDiffers names %q, which is not a case of the peer file", name)
		}
	}
}

// checkProwCommand compares one command line that both grammars recognise.
func checkProwCommand(t *testing.T, p prowCommand, o Command) {
	t.Helper()
	switch o.Name {
	case Label, RemoveLabel:
		// Agree: the argument is the full label name; Prow lower-cases
		// it, we keep its case and match labels case-insensitively
		// (SameLabel), which comes to the same. We also take several
		// names, and quoted names with spaces.
		if len(p.args) == 0 {
			// Agree on doing nothing; differ in saying so.
			t.Logf("differs: Prow silently ignores an empty /%s, we report %v", o.Name, o.Err)
			if !errors.Is(o.Err, ErrArgs) {
				t.Errorf("/%s without a label: Err = %v, want ErrArgs", o.Name, o.Err)
			}
			return
		}
		if o.Err != nil {
			t.Fatalf("%s: unexpected error %v", o.Raw, o.Err)
		}
		if diff := cmp.Diff(p.args, lower(o.Args)); diff != "" {
			t.Errorf("%s: label names (-Prow +ours):\n%s", o.Raw, diff)
		}
	case Priority:
		// Prow's /priority X adds the label priority/X; ours sets the
		// configured level X, whose label the configuration names.
		if len(p.args) == 1 {
			if o.Err != nil || !cmp.Equal(lower(o.Args), p.args) {
				t.Errorf("%s: got %q, %v; want level %q", o.Raw, o.Args, o.Err, p.args[0])
			}
			return
		}
		t.Logf("differs: Prow adds one priority/* label per argument, an issue has one priority level here: %v", o.Err)
		if !errors.Is(o.Err, ErrArgs) {
			t.Errorf("%s: Err = %v, want ErrArgs", o.Raw, o.Err)
		}
	case Triage:
		// Prow's /triage X adds triage/X; ours marks the issue
		// triaged and takes no argument (labels go through /label).
		t.Logf("differs: Prow's /triage adds triage/<arg> labels, ours marks the issue triaged: %v", o.Err)
		if len(p.args) > 0 && !errors.Is(o.Err, ErrArgs) {
			t.Errorf("%s: Err = %v, want ErrArgs", o.Raw, o.Err)
		}
	default:
		// /area, /kind, /sig, /remove-kind, ...: Prow's category
		// shorthands. We have /label area/infra instead; the line is
		// still a command attempt, so the user hears "unknown command".
		t.Logf("differs: Prow's category shorthand /%s is an unknown command here (use /label)", o.Name)
		if !errors.Is(o.Err, ErrUnknown) {
			t.Errorf("%s: Err = %v, want ErrUnknown", o.Raw, o.Err)
		}
	}
}

type triagebotFile struct {
	ParserCases []struct {
		Name    string      `json:"name"`
		Comment string      `json:"comment"`
		Deltas  [][2]string `json:"deltas"`
		Error   *struct {
			Kind string `json:"kind"`
		} `json:"error"`
	} `json:"parser_cases"`
	InputCases []struct {
		Name     string `json:"name"`
		Comment  string `json:"comment"`
		Expected []any  `json:"expected_commands"`
	} `json:"input_cases"`
}

// TestPeerTriagebotParser: rust-lang/triagebot's label grammar is
// "@rustbot label +a -b". Ours is one command per line starting with '/', so
// the mention form is never a command here; each list of label deltas is
// written in our syntax instead, and must give the same labels in the same
// order, quoted names included.
func TestPeerTriagebotParser(t *testing.T) {
	var f triagebotFile
	readJSON(t, "../../testdata/commands-triagebot-label.json", &f)
	if len(f.ParserCases) == 0 {
		t.Fatal("no parser cases")
	}
	for _, c := range f.ParserCases {
		t.Run(c.Name, func(t *testing.T) {
			if got := Parse(c.Comment); len(got) != 0 {
				t.Errorf("Parse(%q) = %v, want nothing: a bot mention is not a command here", c.Comment, got)
			}
			if c.Error != nil {
				t.Logf("differs: %s comes from the mention grammar ('to' keyword, +/- signs), which ours does not have", c.Error.Kind)
				return
			}
			var body []string
			var want []got
			for i, d := range c.Deltas {
				name := d[1]
				if strings.ContainsAny(name, " \t") {
					name = `"` + name + `"`
				}
				cmd := Label
				if d[0] == "-" {
					cmd = RemoveLabel
				}
				raw := "/" + cmd + " " + name
				body = append(body, raw)
				want = append(want, got{Name: cmd, Args: []string{d[1]}, Line: i + 1, Raw: raw})
			}
			give := strings.Join(body, "\n")
			if diff := cmp.Diff(want, summarise(Parse(give)), errOpt); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", give, diff)
			}
			// The net effect (+X then -X cancel out) is the rules'
			// business, not the grammar's.
		})
	}
}

// TestPeerTriagebotInput: each whole-comment case, written in our syntax. We
// agree on every ignored region that can start a line (fenced and indented
// code, quotes and their lazy continuation, HTML comments); inline code and
// links cannot start a command line at all. We differ on purpose in having no
// terminators ('.' ';'), no separators (',' "and"), and one command per line.
func TestPeerTriagebotInput(t *testing.T) {
	var f triagebotFile
	readJSON(t, "../../testdata/commands-triagebot-label.json", &f)
	labelBug := func(line int) []got {
		return []got{{Name: Label, Args: []string{"bug"}, Line: line, Raw: "/label bug"}}
	}
	ours := map[string]struct {
		give    string
		want    []got
		differs string
	}{
		"errors_outside_command_are_fine": {give: "haha\" unterminated quotes\n/label bug", want: labelBug(2)},
		"code_1":                          {give: "`/label bug`"},
		"code_2":                          {give: "```\n    /label bug\n    ```"},
		"resumes_after_code": {give: "```\n/label bug\n```\n\n/assign\n    ",
			want: []got{{Name: Assign, Line: 5, Raw: "/assign"}}},
		"edit_1 (old)": {give: "/label bug", want: labelBug(1)},
		"edit_1 (new)": {give: "Adding labels: /label bug. some other text",
			differs: "a command starts a line; mid-sentence it is prose"},
		"edit_2 (old)": {give: "/label bug", want: labelBug(1)},
		"edit_2 (new)": {give: "/LABEL bug", want: []got{{Name: Label, Args: []string{"bug"}, Line: 1, Raw: "/LABEL bug"}}},
		"move_input_along": {give: "/label bug. Afterwards, delete the world.",
			want:    []got{{Name: Label, Args: []string{"bug.", "Afterwards,", "delete", "the", "world."}, Line: 1, Raw: "/label bug. Afterwards, delete the world."}},
			differs: "no '.' terminator: the whole line is arguments, and unknown labels are refused later against the repository's labels"},
		"move_input_along_1": {give: `/label bug"`, want: []got{{Name: Label, Line: 1, Raw: `/label bug"`, Err: ErrSyntax}}},
		"multiname": {give: "/label bug. Afterwards, delete the world. /priority high",
			want:    []got{{Name: Label, Args: []string{"bug.", "Afterwards,", "delete", "the", "world.", "/priority", "high"}, Line: 1, Raw: "/label bug. Afterwards, delete the world. /priority high"}},
			differs: "one command per line: a second command on the same line is arguments of the first"},
		"test_follow_commands": {give: "/assign /label bug", want: []got{{Name: Assign, Line: 1, Raw: "/assign /label bug", Err: ErrLogin}},
			differs: "one command per line: '/label' is read as an assignee, which is not a login"},
		"cbs_13 (ignore_block)": {give: "<!-- q -->\n/label F-trait_upcasting",
			want: []got{{Name: Label, Args: []string{"F-trait_upcasting"}, Line: 2, Raw: "/label F-trait_upcasting"}}},
		"mention inside blockquote":                                   {give: "> /label bug"},
		"command on the line right after a quote (lazy continuation)": {give: "> quoted text\n/label bug"},
		"command after quote and blank line":                          {give: "> quoted text\n\n/label bug", want: labelBug(3)},
		"mention inside indented code block":                          {give: "    /label bug"},
		"mention inside unclosed fence":                               {give: "```\n/label bug\n"},
		"mention inside HTML comment":                                 {give: "<!--\n/label bug\n-->"},
		"mention inside link text":                                    {give: "[/label bug](https://example.com)"},
		"mention is case-insensitive": {give: "/LaBeL bug",
			want: []got{{Name: Label, Args: []string{"bug"}, Line: 1, Raw: "/LaBeL bug"}}},
		"words after the label list are labels too": {give: "/label bug please",
			want: []got{{Name: Label, Args: []string{"bug", "please"}, Line: 1, Raw: "/label bug please"}}},
		"comma and 'and' separators": {give: "/label bug, T-lang and",
			want:    []got{{Name: Label, Args: []string{"bug,", "T-lang", "and"}, Line: 1, Raw: "/label bug, T-lang and"}},
			differs: "no separators: names are split at white space only (quote a name to keep spaces)"},
		"dot inside a label name ends the command": {give: "/label A-foo.bar",
			want:    []got{{Name: Label, Args: []string{"A-foo.bar"}, Line: 1, Raw: "/label A-foo.bar"}},
			differs: "'.' is part of a name (GitHub allows it in labels), not a terminator"},
		"punctuation other than . ; , ends in an error": {give: "/label bug!",
			want:    []got{{Name: Label, Args: []string{"bug!"}, Line: 1, Raw: "/label bug!"}},
			differs: "punctuation is part of a name; 'bug!' is refused later if the repository has no such label"},
	}
	seen := map[string]bool{}
	for _, c := range f.InputCases {
		t.Run(c.Name, func(t *testing.T) {
			seen[c.Name] = true
			o, ok := ours[c.Name]
			if !ok {
				t.Fatalf("peer case %q has no counterpart here: add one", c.Name)
			}
			if got := Parse(c.Comment); len(got) != 0 {
				t.Errorf("Parse(%q) = %v, want nothing: a bot mention is not a command here", c.Comment, got)
			}
			if o.differs != "" {
				t.Logf("differs: %s", o.differs)
			} else if (len(c.Expected) == 0) != (len(o.want) == 0) {
				t.Errorf("meant to agree, but the peer expects %d command(s) and we %d", len(c.Expected), len(o.want))
			}
			if diff := cmp.Diff(o.want, summarise(Parse(o.give)), errOpt); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", o.give, diff)
			}
		})
	}
	for name := range ours {
		if !seen[name] {
			t.Errorf("counterpart %q names no case of the peer file", name)
		}
	}
	// The edit pairs: an edit that keeps the same command runs nothing
	// again, however the line around it changed.
	for _, pair := range [][2]string{
		{ours["edit_1 (old)"].give, "Adding labels:\n/label bug\nsome other text"},
		{ours["edit_2 (old)"].give, ours["edit_2 (new)"].give},
	} {
		if got := AddedCommands(pair[0], pair[1]); len(got) != 0 {
			t.Errorf("AddedCommands(%q, %q) = %v, want nothing", pair[0], pair[1], got)
		}
	}
}
