package command

import (
	"errors"
	"fmt"
	"strings"
)

// Command names, as written after the '/' (in any case) and as used for the
// keys of commands.permissions in the repository configuration.
const (
	Label       = "label"
	RemoveLabel = "remove-label"
	Priority    = "priority"
	Triage      = "triage"
	NeedsTriage = "needs-triage"
	Assign      = "assign"
	Unassign    = "unassign"
	Close       = "close"
	Reopen      = "reopen"
	CoC         = "coc"
	Notify      = "notify"
	Help        = "help"
	Why         = "why"
	NotSecurity = "not-security"
	// Lifecycle takes "frozen"; RemoveLifecycle "stale" or "frozen".
	Lifecycle       = "lifecycle"
	RemoveLifecycle = "remove-lifecycle"
)

// Reasons /close accepts; Args holds them in this form.
const (
	ReasonCompleted  = "completed"
	ReasonNotPlanned = "not-planned"
)

// Errors classify a Command's Err; test with errors.Is.
var (
	// ErrUnknown: the line is a command attempt but not a known command.
	ErrUnknown = errors.New("unknown command")
	// ErrSyntax: the arguments cannot be split (quotes).
	ErrSyntax = errors.New("syntax error")
	// ErrArgs: too few or too many arguments, or a value that is not allowed.
	ErrArgs = errors.New("invalid arguments")
	// ErrLogin: an assignee that is not a GitHub login.
	ErrLogin = errors.New("invalid login")
)

// Command is one command line of a comment body.
type Command struct {
	// Name is the command's name in lower case, one of the constants above.
	// For an unknown command it is the word as typed, in lower case, and Err
	// wraps ErrUnknown: check Err before Name.
	Name string
	// Args are the arguments: label names for label and remove-label (as
	// typed; compare with SameLabel), one level for priority (as typed;
	// compared with the configured levels later), logins without '@' for
	// assign and unassign, ReasonCompleted or ReasonNotPlanned for close, the
	// free text for notify. Nil when there are none or when Err is set. All
	// are user text: Neutralize them before echoing them.
	Args []string
	// Line is the 1-based line number in the body. "\r\n", "\n" and "\r" each
	// end a line.
	Line int
	// Raw is the line as GitHub shows it: without HTML comments (so echoing
	// it never reveals a hidden comment) and without leading and trailing
	// white space. It is user text: Neutralize it before echoing it.
	Raw string
	// Err is set when the line is a command attempt that cannot run. Its
	// message names the problem for the user and is already neutralised.
	Err error
}

// spec says how many arguments a command takes and how to read them.
type spec struct {
	min, max int  // max < 0: no limit
	rest     bool // the rest of the line is one free-text argument
}

// specs is the grammar's table; it is never modified.
var specs = map[string]spec{
	Label:           {min: 1, max: -1},
	RemoveLabel:     {min: 1, max: -1},
	Priority:        {min: 1, max: 1},
	Triage:          {},
	NeedsTriage:     {},
	Assign:          {max: -1},
	Unassign:        {max: -1},
	Close:           {max: 1},
	Reopen:          {},
	CoC:             {},
	Notify:          {max: 1, rest: true},
	Help:            {},
	Why:             {},
	NotSecurity:     {},
	Lifecycle:       {min: 1, max: 1},
	RemoveLifecycle: {min: 1, max: 1},
}

// Names returns every command name, in the order /help lists them.
func Names() []string {
	return []string{Label, RemoveLabel, Priority, Triage, NeedsTriage, Assign, Unassign,
		Close, Reopen, CoC, Notify, Help, Why, NotSecurity, Lifecycle, RemoveLifecycle}
}

// Parse returns the commands of a comment body in the order they appear. It
// returns only command attempts (see the package documentation); an attempt
// that cannot run comes back with Err set.
func Parse(body string) []Command {
	var (
		cmds []Command
		s    scanner
	)
	for i, line := range lines(body) {
		visible, ok := s.next(line)
		if !ok {
			continue
		}
		if c, ok := parseLine(visible); ok {
			c.Line = i + 1
			c.Raw = strings.TrimSpace(visible)
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// lines splits body at "\r\n", "\n" and "\r", the CommonMark line endings.
func lines(body string) []string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	return strings.Split(body, "\n")
}

// parseLine parses the visible text of a line that starts (after at most
// three spaces) with '/'. It reports false when the line is not a command
// attempt.
func parseLine(text string) (Command, bool) {
	text = strings.TrimLeft(text, " \t")
	name, rest, ok := commandWord(text[1:])
	if !ok {
		return Command{}, false
	}
	c := Command{Name: strings.ToLower(name)}
	sp, known := specs[c.Name]
	if !known {
		c.Err = fmt.Errorf("%w /%s", ErrUnknown, c.Name)
		return c, true
	}
	var args []string
	if sp.rest {
		if t := strings.TrimSpace(rest); t != "" {
			args = []string{t}
		}
	} else {
		var err error
		if args, err = splitArgs(rest); err != nil {
			c.Err = fmt.Errorf("/%s: %w", c.Name, err)
			return c, true
		}
	}
	if err := checkArgs(c.Name, sp, args); err != nil {
		c.Err = fmt.Errorf("/%s: %w", c.Name, err)
		return c, true
	}
	c.Args = args
	return c, true
}

// commandWord splits s (the text after '/') into a command word and the rest
// of the line. The word is ASCII letters and hyphens, starts with a letter,
// and ends at white space or the end of the line; otherwise the line is not a
// command attempt.
func commandWord(s string) (word, rest string, ok bool) {
	n := 0
	for n < len(s) && (isLetter(s[n]) || (n > 0 && s[n] == '-')) {
		n++
	}
	if n == 0 {
		return "", "", false
	}
	if n < len(s) && s[n] != ' ' && s[n] != '\t' {
		return "", "", false
	}
	return s[:n], s[n:], true
}

func isLetter(b byte) bool {
	return ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
}

// splitArgs splits s at white space; a double-quoted argument may hold white
// space. There are no escapes.
func splitArgs(s string) ([]string, error) {
	var args []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return args, nil
		}
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated quote in %s", ErrSyntax, quoted(s))
			}
			arg := s[1 : 1+end]
			s = s[1+end+1:]
			if s != "" && s[0] != ' ' && s[0] != '\t' {
				return nil, fmt.Errorf("%w: text right after the closing quote of %s", ErrSyntax, quoted(`"`+arg+`"`))
			}
			if strings.TrimSpace(arg) == "" {
				return nil, fmt.Errorf("%w: empty quoted argument", ErrSyntax)
			}
			args = append(args, arg)
			continue
		}
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		word := s[:end]
		if strings.IndexByte(word, '"') >= 0 {
			return nil, fmt.Errorf("%w: quote inside %s (quote the whole name)", ErrSyntax, quoted(word))
		}
		args = append(args, word)
		s = s[end:]
	}
}

// checkArgs validates the number of arguments and, for close, assign and
// unassign, their values; it normalises them in place.
func checkArgs(name string, sp spec, args []string) error {
	switch {
	case len(args) < sp.min && sp.max == 1:
		return fmt.Errorf("%w: needs one argument", ErrArgs)
	case len(args) < sp.min:
		return fmt.Errorf("%w: needs at least one argument", ErrArgs)
	case sp.max == 0 && len(args) > 0:
		return fmt.Errorf("%w: takes no arguments", ErrArgs)
	case sp.max == 1 && len(args) > 1:
		return fmt.Errorf("%w: takes one argument, got %d", ErrArgs, len(args))
	case sp.max > 1 && len(args) > sp.max:
		return fmt.Errorf("%w: takes at most %d arguments, got %d", ErrArgs, sp.max, len(args))
	}
	switch name {
	case Close:
		for i, a := range args {
			switch strings.ToLower(a) {
			case "completed":
				args[i] = ReasonCompleted
			case "not-planned", "not_planned":
				args[i] = ReasonNotPlanned
			default:
				return fmt.Errorf("%w: the reason is `%s` or `%s`, not %s", ErrArgs, ReasonCompleted, ReasonNotPlanned, quoted(a))
			}
		}
	case Lifecycle, RemoveLifecycle:
		a := strings.ToLower(args[0])
		if a != "frozen" && (name == Lifecycle || a != "stale") {
			want := "`frozen`"
			if name == RemoveLifecycle {
				want = "`stale` or `frozen`"
			}
			return fmt.Errorf("%w: the state is %s, not %s", ErrArgs, want, quoted(args[0]))
		}
		args[0] = a
	case Assign, Unassign:
		for i, a := range args {
			login := strings.TrimPrefix(a, "@")
			if strings.Contains(login, "/") {
				return fmt.Errorf("%w: %s is a team; only users can be assigned", ErrLogin, quoted(a))
			}
			if !ValidLogin(login) {
				return fmt.Errorf("%w: %s is not a GitHub login", ErrLogin, quoted(a))
			}
			args[i] = login
		}
	}
	return nil
}

// ValidLogin reports whether s is a valid GitHub user login: 1 to 39 ASCII
// letters, digits and single hyphens, neither first nor last.
func ValidLogin(s string) bool {
	if s == "" || len(s) > 39 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && !('0' <= s[i] && s[i] <= '9') && s[i] != '-' {
			return false
		}
	}
	return true
}

// quoted formats user text for an error message: neutralised and in
// backticks, shortened if long.
func quoted(s string) string {
	const limit = 60
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return "`" + Neutralize(strings.ReplaceAll(s, "`", "'")) + "`"
}
