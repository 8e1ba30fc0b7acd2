// Package command is the grammar of triagebot's comment commands: it finds
// the commands in a comment body and nothing else. Whether a command is
// allowed, and what it does, is decided later by the rules package against the
// repository's configuration.
//
// # What is a command
//
// A command is a line whose first character, after at most three spaces, is
// '/', followed by a word of ASCII letters and hyphens that starts with a
// letter, followed by white space or the end of the line:
//
//	/label "good first issue" bug
//	/close not-planned
//
// A line like that is a command attempt even when the word is not a known
// command ("/lable bug" comes back with an error wrapping ErrUnknown, so the
// caller can answer "unknown command"). Anything else starting with '/' is
// prose and is not returned at all: "/usr/bin/env" (the word is followed by
// '/'), "/ 2", "/2fa", "/close." (followed by punctuation), "/label:".
//
// # Where commands are never found
//
// Lines GitHub renders as code, quotes or hidden text never hold a command:
//
//   - fenced code blocks (``` or ~~~, three or more, with or without an info
//     string; closed only by a fence of the same character at least as long;
//     an unclosed fence runs to the end of the body), also when the fence
//     opens after a list marker;
//   - lines indented by four or more columns (indented code; a tab counts to
//     the next multiple of four);
//   - block quotes ('>' lines, also after list markers) and the paragraph
//     that runs on after a quote up to the next blank line, fence or HTML
//     comment block
//     (CommonMark lazy continuation: GitHub shows those lines inside the
//     quote, so quoting someone's command never re-runs it);
//   - HTML comments, "<!--" to "-->", on one line or several.
//
// When the grammar is unsure it errs on the side of ignoring a line: a
// command that is silently not run can be typed again, a command run from a
// quote or a code example cannot be taken back. See scan.go for the
// approximations of CommonMark that this implies.
//
// # Arguments
//
// Arguments are separated by spaces and tabs. An argument may be wrapped in
// double quotes to hold spaces ("good first issue"); there are no escapes. An
// unterminated quote, a quote inside a word, text glued to a closing quote and
// an empty quoted argument are errors for that command. /notify takes the rest
// of the line as one free-text argument, unparsed.
//
// Each command checks its arguments: /label and /remove-label need at least
// one name; /priority exactly one level (any word: the configured levels are
// checked later); /close at most one reason, completed or not-planned (also
// not_planned); /assign and /unassign any number of GitHub logins, with or
// without '@' (a team such as @org/team is an error); /notify any text; the
// others none, so "/triage accepted" is an error rather than a silent
// /triage. Command names are case-insensitive; arguments keep their case.
//
// # Echoing user text
//
// Raw and Args are user text. Pass anything the bot writes back through
// Neutralize so that a comment can never make the bot mention a user or a
// team. Err messages are already neutralised.
package command
